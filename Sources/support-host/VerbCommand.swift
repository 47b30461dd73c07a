import ArgumentParser
import Foundation
import PluginAPI
import SupportHost

/// A scheme verb (`support-host ping`, `discover`, `test DIST`): which verbs exist, what they
/// plan and what they make of a run is the plug-ins' business (`PluginTable.verbs`); this
/// command only parses the guest and the job around them.
struct VerbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheme-verb",
        abstract: "A scheme verb of a plug-in: support-host VERB [ARGUMENT] [--guest local|qemu | -- COMMAND…].",
        discussion: """
            Verbs:
            \(verbListing)

            --guest local runs guest/image-manager.sh on this host with its injector directory;
            --guest qemu:ARCH (x86_64, i386, arm64; qemu alone is x86_64) boots the guest built by
            scripts/build-guest --arch ARCH (see docs/guests.md);
            -- COMMAND… runs any launcher, with {injector} (the injector directory) and
            {injector_iso} (an ISO 9660 image of it) in its arguments.
            """,
        shouldDisplay: false)

    static var verbListing: String {
        PluginTable.verbs.map { entry in
            "  \(entry.verb.name)\(entry.verb.argument.map { " " + $0 } ?? "") (\(entry.plugin)): \(entry.verb.summary)"
        }.joined(separator: "\n")
    }

    @Argument(help: "The verb.")
    var verb: String

    @Argument(help: "The verb's argument (test: DIST, a tarball or TAP script, or a name in a --mirror).")
    var argument: String?

    @Option(help: "local (the default), qemu (qemu:x86_64), qemu:i386 or qemu:arm64, unless a command follows --.")
    var guest: String?

    @Option(help: "The testing scheme for test (perl5, sh; default from the DIST's name).")
    var scheme: String?

    @Option(help: "The guest kernel for --guest qemu (default guest-build/ARCH/vmlinuz).")
    var kernel: String?

    @Option(help: "The guest initramfs for --guest qemu (default guest-build/ARCH/initrd).")
    var initrd: String?

    @Option(help: "Added to the guest kernel's command line for --guest qemu.")
    var append: String?

    @Option(help: "Seconds the image manager stays up after its task before it powers off.")
    var linger: Double?

    @Option(help: "The host name put into image.conf for a guest given after -- (default: the listen address).")
    var guestHost: String?

    @OptionGroup var guestRun: GuestRunFlags

    @Option(help: "The run directory (default ./runs/<verb>-<time>).")
    var runDir: String?

    @Flag(help: "Print the verb's answer as JSON.")
    var json = false

    @Flag(help: "Print only the verb's answer.")
    var quiet = false

    @Flag(help: "Print details too: the guest's command line, stop steps.")
    var verbose = false

    @Argument(parsing: .postTerminator, help: "A guest command, after --.")
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
            throw fail("\(error)", code: Outcome.hostErrorExitCode)
        } catch {
            throw fail("\(error)", code: Outcome.badJobExitCode)
        }
        console.endStatus()
        if json {
            print(String(decoding: result.verdict.details.encoded(pretty: true), as: UTF8.self))
        } else {
            if !quiet { print("support-host: run directory: \(result.summary.runDirectory.url.path)") }
            result.verdict.lines.forEach { print($0) }
        }
        throw ExitCode(result.verdict.exitCode)
    }

    private func verbRequest() throws(JobError) -> VerbRequest {
        var settings = JobSettings()
        settings.command = ["/bin/true"]
        try guestRun.apply(to: &settings)
        settings.runDirectory = runDir ?? "runs/\(verb)-" + String(Int(Date().timeIntervalSince1970))
        let choice: GuestChoice
        switch (guest, command.isEmpty) {
        case (nil, false): choice = .command(command)
        case ("local"?, true), (nil, true): choice = .local
        case (let name?, true):
            guard let arch = QemuArch(guestName: name) else {
                throw .wrongType(key: "guest", expected: QemuArch.guestNames.joined(separator: ", ") + " (or a command after --)")
            }
            choice = .qemu(arch: arch, kernel: kernel, initrd: initrd, append: append)
        case (_?, false): throw .wrongType(key: "guest", expected: "left out when a command follows --")
        }
        var request = VerbRequest(verb: verb, argument: argument, scheme: scheme, guest: choice, settings: settings)
        request.linger = linger
        request.guestHost = guestHost
        return request
    }
}
