import ArgumentParser
import SupportHost

/// The flags every command that runs a guest shares (`run` and the scheme verbs): where to
/// listen, what to serve, the timeouts, the stop commands, console watching.
struct GuestRunFlags: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Address to listen on (default 127.0.0.1:0, any free port).", valueName: "host:port"))
    var listen: String?

    @Option(name: .customLong("mirror"), help: ArgumentHelp("Serve DIR read-only under PREFIX (repeatable).", valueName: "prefix=dir"))
    var mirrors: [String] = []

    // `.unconditional`: `--startup-timeout -5` is a value to refuse with a clear message, as
    // `--startup-timeout=-5` is, not a missing value.
    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds from launch to the first GET / (default 300).", valueName: "seconds"))
    var startupTimeout: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds without any request once started (default 300).", valueName: "seconds"))
    var activityTimeout: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds for the whole run (default 14400).", valueName: "seconds"))
    var totalTimeout: Double?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Seconds the guest has to exit after its last required result (default 30).", valueName: "seconds"))
    var shutdownTimeout: Double?

    @Option(
        name: .customLong("stop-command"),
        help: ArgumentHelp(
            "A shell command that asks the guest to stop, e.g. system_powerdown to a qemu monitor (repeatable: tried in turn).",
            valueName: "shell-command"))
    var stopCommands: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds to wait after each stop command (default 30).", valueName: "seconds"))
    var stopGrace: Double?

    @Option(
        name: .customLong("fail-on"),
        help: ArgumentHelp("A console line matching this regular expression ends the run (repeatable).", valueName: "regex"))
    var failOn: [String] = []

    @Flag(help: "Fail on the usual kernel panic and oops lines.")
    var failOnPanic = false

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "A plug-in's setting, over the job file's plugins key (repeatable), e.g. --set Echo.max_bytes=4096.",
            valueName: "plugin.key=value"))
    var pluginSettings: [String] = []

    /// Lays the flags given over `settings` (a job file's, or empty ones), noting each as the
    /// origin of its setting so that a problem names the flag.
    func apply(to settings: inout JobSettings) throws(JobError) {
        if let listen { (settings.listenHost, settings.listenPort) = try JobSettings.parseListen(listen) }
        for mirror in mirrors { settings.mirrors.append(try JobSettings.parseMirror(mirror)) }
        settings.set(\.startupTimeout, startupTimeout, flag: "--startup-timeout", setting: "startup timeout")
        settings.set(\.activityTimeout, activityTimeout, flag: "--activity-timeout", setting: "activity timeout")
        settings.set(\.totalTimeout, totalTimeout, flag: "--total-timeout", setting: "total timeout")
        settings.set(\.shutdownTimeout, shutdownTimeout, flag: "--shutdown-timeout", setting: "shutdown timeout")
        settings.stopCommands += stopCommands.map { ["/bin/sh", "-c", $0] }
        settings.set(\.stopGrace, stopGrace, flag: "--stop-grace", setting: "stop grace")
        settings.failOn += failOn
        if failOnPanic { settings.failOnPanic = true }
        for text in pluginSettings { try settings.setPluginSetting(text) }
    }
}

extension JobSettings {
    /// Sets one setting from a flag, if the flag was given, and remembers the flag's name.
    mutating func set<Value>(_ field: WritableKeyPath<JobSettings, Value?>, _ value: Value?, flag: String, setting: String) {
        guard let value else { return }
        self[keyPath: field] = value
        origins[setting] = flag
    }
}
