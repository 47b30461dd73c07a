import ArgumentParser
import FoundationEssentials
import PluginAPI
import SupportHost

/// A scheme verb (`support-host ping`, `discover`, `test DIST`): which verbs exist, what they
/// plan and what they make of a run is the plug-ins' business (`PluginTable.verbs`); this
/// command only parses the guest and the job around them.
struct VerbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheme-verb",
        abstract: "A scheme verb of a plug-in.",
        shouldDisplay: false)

    static var verbListing: String {
        PluginTable.verbs.map { entry in
            "  \(entry.verb.name)\(entry.verb.argument.map { " " + $0 } ?? ""): \(entry.verb.summary) (plug-in \(entry.plugin))"
        }.joined(separator: "\n")
    }

    /// The guest kinds `--guest` takes, for help and for the message when it is something else.
    static let guestKinds = "local (the image manager as a process on this host, the default), "
        + QemuArch.guestNames.filter { $0 != "local" }.joined(separator: ", ") + " (VMs built by scripts/build-guest --arch ARCH; qemu is qemu:x86_64)"

    /// `support-host VERB --help`: the verb's own help — its summary and usage — with the
    /// options every verb shares (from this command's own help, so they never drift).
    static func help(for verb: Verb, plugin: String) -> String {
        let shared = helpMessage(columns: nil)
        let options = shared.firstRange(of: "OPTIONS:").map { String(shared[$0.lowerBound...]) } ?? ""
        let argument = verb.argument.map { " <\($0.lowercased())>" } ?? ""
        var text = """
            OVERVIEW: \(verb.summary.prefix(1).uppercased() + verb.summary.dropFirst()). (Plug-in \(plugin).)

            USAGE: support-host \(verb.name)\(argument) [--guest <kind>] [<options>] [-- <command> ...]

            The guest: --guest takes \(guestKinds); or give any launcher command after --, with {injector} (the injector directory) and {injector_iso} (an ISO 9660 image of it) in its arguments. docs/guests.md says how the images are built.

            ARGUMENTS:

            """
        if let name = verb.argument {
            text += "  <\(name.lowercased())>  " + (name == "DIST" ? "A dist tarball or TAP script on this host, or a name in a --mirror." : "The verb's argument.") + "\n"
        }
        text += "  <command>  A guest launcher command, after --.\n\n"
        return text + options
    }

    @Argument(help: ArgumentHelp("The verb.", visibility: .hidden))
    var verb: String

    @Argument(help: ArgumentHelp("The verb's argument, for a verb that takes one (test: DIST).", visibility: .hidden))
    var argument: String?

    @Option(help: ArgumentHelp("Which guest to boot: local, qemu (qemu:x86_64), qemu:i386 or qemu:arm64 (default local; leave it out when a command follows --).", valueName: "kind"))
    var guest: String?

    @Option(help: ArgumentHelp("The testing scheme for test (perl5, sh; default from the DIST's name).", valueName: "scheme"))
    var scheme: String?

    @Option(help: ArgumentHelp("The guest kernel for --guest qemu (default guest-build/ARCH/vmlinuz).", valueName: "file"))
    var kernel: String?

    @Option(help: ArgumentHelp("The guest initramfs for --guest qemu (default guest-build/ARCH/initrd).", valueName: "file"))
    var initrd: String?

    @Option(help: ArgumentHelp("Added to the guest kernel's command line for --guest qemu.", valueName: "text"))
    var append: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds the image manager stays up after its task before it powers off.", valueName: "seconds"))
    var linger: Double?

    @Option(help: ArgumentHelp("The host name put into image.conf for a guest given after -- (default: the listen address).", valueName: "host"))
    var guestHost: String?

    @OptionGroup var guestRun: GuestRunFlags

    @Option(help: ArgumentHelp("The run directory (default ./runs/<UTC time>-<4 hex>); it must not exist or be empty.", valueName: "run-dir"))
    var runDir: String?

    @Flag(help: "Print the verb's answer as JSON.")
    var json = false

    @Flag(help: "Print only the verb's answer.")
    var quiet = false

    @Flag(help: "Print details too: the guest's command line, stop steps.")
    var verbose = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A guest launcher command, after --.", valueName: "command"))
    var command: [String] = []

    func run() async throws {
        let request: VerbRequest
        do throws(JobError) {
            request = try verbRequest()
        } catch {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        }
        let console = Console.shared
        var options = RunOptions()
        options.handleSignals = true
        options.adoptOrphans = true
        options.logger = console.logger(level: quiet || json ? .warning : verbose ? .debug : .info)
        if !quiet && !json { options.status = { console.status($0) } }
        let result: VerbRunResult
        do {
            result = try await SchemeVerbRun.execute(request, options: options)
        } catch let error as JobError {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        } catch let error as HostError {
            throw fail("\(error)", code: error.exitCode)
        } catch {
            throw fail("\(error)", code: Outcome.badJobExitCode)
        }
        console.endStatus()
        if json {
            print(String(decoding: result.verdict.details.encoded(pretty: true), as: UTF8.self))
        } else {
            if !quiet { print("support-host: run directory: \(result.summary.runDirectory.url.path)") }
            result.verdict.lines.forEach { print($0) }
            if !quiet { ReportText.whyLines(result.summary.report, consoleLines: ConsoleTailText.runEndLines).forEach { print($0) } }
        }
        throw ExitCode(result.verdict.exitCode)
    }

    private func verbRequest() throws(JobError) -> VerbRequest {
        if let argument, let entry = PluginTable.verbs.first(where: { $0.verb.name == verb }), entry.verb.argument == nil {
            throw .unexpectedArgument(verb: verb, argument: argument)
        }
        var settings = JobSettings()
        settings.command = ["/bin/true"]
        try guestRun.apply(to: &settings)
        settings.runDirectory = runDir
        let choice: GuestChoice
        switch (guest, command.isEmpty) {
        case (nil, false): choice = .command(command)
        case ("local"?, true), (nil, true): choice = .local
        case (let name?, true):
            guard let arch = QemuArch(guestName: name) else {
                throw .badFlag(flag: "--guest", value: name, reason: "no such guest kind; the kinds are \(Self.guestKinds), or give a launcher command after --")
            }
            choice = .qemu(arch: arch, kernel: kernel, initrd: initrd, append: append)
        case (let kind?, false):
            throw .badFlag(flag: "--guest", value: kind, reason: "leave --guest out when a launcher command follows --")
        }
        var request = VerbRequest(verb: verb, argument: argument, scheme: scheme, guest: choice, settings: settings)
        request.linger = linger
        request.guestHost = guestHost
        return request
    }
}
