import PluginAPI

/// The run's tokens, one per guest: a request's token says which guest sent it, and nothing
/// else is needed to know. A run of one guest has one.
struct GuestTokens: Sendable {
    /// Guest names and their tokens, in the job's order.
    let entries: [Entry]

    struct Entry: Sendable {
        let guest: String
        let token: RunToken
    }

    init(_ entries: [Entry]) { self.entries = entries }

    /// The one token of a run of one guest.
    init(single token: RunToken, guest: String = GuestDescription.defaultName) {
        entries = [Entry(guest: guest, token: token)]
    }

    /// What a request shows of its credentials: its path without the token and its guest, or a refusal.
    enum Check {
        case allowed(path: String, guest: String)
        case refused(recordedPath: String)
    }

    /// Every guest's token is tried (each compared without an early exit), so the time taken
    /// says nothing about which, if any, matched.
    func check(path: String, authorization: String?) -> Check {
        if path.hasPrefix("/t/") {
            let rest = path.dropFirst(3)
            let end = rest.utf8.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            let remainder = String(rest[end...])
            guard let guest = guest(presenting: rest[..<end]) else { return .refused(recordedPath: "/t/…" + remainder) }
            return .allowed(path: remainder.isEmpty ? "/" : remainder, guest: guest)
        }
        if let authorization, authorization.hasPrefix("Bearer "), let guest = guest(presenting: authorization.dropFirst(7)) {
            return .allowed(path: path, guest: guest)
        }
        return .refused(recordedPath: path)
    }

    private func guest<S: StringProtocol>(presenting candidate: S) -> String? {
        var found: String?
        for entry in entries where entry.token.matches(candidate) && found == nil { found = entry.guest }
        return found
    }

    /// Replaces every guest's token wherever it appears, for anything written down or shown.
    func redact(_ text: String) -> String { entries.reduce(text) { $1.token.redact($0) } }

    func token(of guest: String) -> RunToken? { entries.first { $0.guest == guest }?.token }
}
