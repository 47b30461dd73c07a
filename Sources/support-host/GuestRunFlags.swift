import ArgumentParser
import SupportHost

/// The flags every command that runs a guest shares (`run` and the scheme verbs): where to
/// listen, what to serve, the timeouts, the stop commands, console watching.
struct GuestRunFlags: ParsableArguments {
    @Option(name: .long, help: "Address to listen on, HOST:PORT (default 127.0.0.1:0, any free port).")
    var listen: String?

    @Option(name: .customLong("mirror"), help: "Serve DIR read-only under PREFIX, as PREFIX=DIR (repeatable).")
    var mirrors: [String] = []

    @Option(help: "Seconds from launch to the first GET / (default 300).")
    var startupTimeout: Double?

    @Option(help: "Seconds without any request once started (default 300).")
    var activityTimeout: Double?

    @Option(help: "Seconds for the whole run (default 14400).")
    var totalTimeout: Double?

    @Option(help: "Seconds the guest has to exit after its last required result (default 30).")
    var shutdownTimeout: Double?

    @Option(
        name: .customLong("stop-command"),
        help: "A shell command that asks the guest to stop, e.g. system_powerdown to a qemu monitor (repeatable: tried in turn).")
    var stopCommands: [String] = []

    @Option(help: "Seconds to wait after each stop command (default 30).")
    var stopGrace: Double?

    @Option(name: .customLong("fail-on"), help: "A regular expression: a console line matching it ends the run (repeatable).")
    var failOn: [String] = []

    @Flag(help: "Fail on the usual kernel panic and oops lines.")
    var failOnPanic = false

    /// Lays the flags given over `settings` (a job file's, or empty ones).
    func apply(to settings: inout JobSettings) throws(JobError) {
        if let listen { (settings.listenHost, settings.listenPort) = try JobSettings.parseListen(listen) }
        for mirror in mirrors { settings.mirrors.append(try JobSettings.parseMirror(mirror)) }
        if let startupTimeout { settings.startupTimeout = startupTimeout }
        if let activityTimeout { settings.activityTimeout = activityTimeout }
        if let totalTimeout { settings.totalTimeout = totalTimeout }
        if let shutdownTimeout { settings.shutdownTimeout = shutdownTimeout }
        settings.stopCommands += stopCommands.map { ["/bin/sh", "-c", $0] }
        if let stopGrace { settings.stopGrace = stopGrace }
        settings.failOn += failOn
        if failOnPanic { settings.failOnPanic = true }
    }
}
