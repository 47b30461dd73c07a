import PluginAPI

/// How a hook's thrown error is answered: a `GuestError` with its own status, a body cut short
/// with 400, anything else with 500 naming the plug-in. The run goes on either way.
enum HookFailure {
    static func reply(for error: any Error, plugin: String) -> (reply: Reply, reason: String) {
        if let refusal = error as? GuestError {
            return (.text(refusal.status, refusal.reason + "\n"), refusal.reason)
        }
        if let bodyError = error as? BodyError {
            return (.text(400, "\(bodyError)\n"), "\(bodyError)")
        }
        return (.text(500, "\(plugin) failed: \(error)\n"), "\(plugin) failed: \(error)")
    }
}
