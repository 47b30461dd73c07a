import FoundationEssentials
import PluginAPI
import SupportKit

/// Which guest a scheme verb boots.
public enum GuestChoice: Sendable {
    /// The image manager as a plain process on this host; its injector a directory.
    case local
    /// The built VM of an architecture under qemu (`scripts/build-guest --arch ARCH`); nil
    /// paths take the built guest's.
    case qemu(arch: QemuArch, kernel: String?, initrd: String?, append: String?)
    /// Any other launcher; `{injector}` and `{injector_iso}` in it name the injector.
    case command([String])
}

/// A scheme verb to carry out: `support-host test DIST --guest qemu`, say.
public struct VerbRequest: Sendable {
    public var verb: String
    public var argument: String?
    public var scheme: String?
    public var guest: GuestChoice
    /// The rest of the job (timeouts, mirrors, run directory, console patterns …).
    public var settings: JobSettings
    /// Seconds the image manager waits after its task before it powers off (`[task] linger`).
    public var linger: Double?
    /// The host name the guest must use in `server_uri` for a `.command` guest (default: the
    /// listen address; a qemu guest always uses 10.0.2.2).
    public var guestHost: String?

    public init(verb: String, argument: String? = nil, scheme: String? = nil, guest: GuestChoice, settings: JobSettings = JobSettings()) {
        self.verb = verb
        self.argument = argument
        self.scheme = scheme
        self.guest = guest
        self.settings = settings
    }
}

/// What a scheme verb hands back: the run, and what the verb's plug-in made of it.
public struct VerbRunResult: Sendable {
    public let summary: RunSummary
    public let verdict: VerbVerdict
}

/// Carries out a scheme verb through the plug-in table: the plug-in offering the verb plans the
/// run (its command hook at `prepare`), the host writes the injector once it listens, launches
/// the guest, runs it like any other run, and the plug-in judges the report (at `finish`).
public enum SchemeVerbRun {
    public static func execute(_ request: VerbRequest, options: RunOptions) async throws -> VerbRunResult {
        guard let row = PluginTable.row(offering: request.verb) else {
            throw GuestSetupError.unknownVerb(request.verb, PluginTable.verbs.map(\.verb.name))
        }
        let files = GuestFiles.locate()
        let plugin = try PluginTable.make(row, context: PluginContext(
            source: row.name, runDirectory: URL(fileURLWithPath: request.settings.runDirectory ?? "."),
            configuration: RunConfiguration(settings: request.settings.pluginSettings), journal: nil, events: nil))
        var prepare: [String: JSONValue] = [
            "stage": .string(VerbStage.prepare.rawValue),
            "mirrors": .object(Dictionary(request.settings.mirrors.map { ($0.0, JSONValue.string($0.1)) }) { first, _ in first }),
        ]
        if let argument = request.argument { prepare["argument"] = .string(argument) }
        if let scheme = request.scheme { prepare["scheme"] = .string(scheme) }
        guard let plan = VerbPlan(json: try await plugin.command(request.verb, arguments: prepare)) else {
            throw GuestSetupError.badPlan("\(row.name) answered no task for \(request.verb)")
        }

        let injector = try Injector.create()
        defer { injector.remove() }
        var settings = request.settings
        var serverHost = request.guestHost
        var needsISO = false
        switch request.guest {
        case .local:
            guard FileManager.default.fileExists(atPath: files.imageManager) else {
                throw GuestSetupError.missingFile(files.imageManager, "run from the project, or set SUPPORT_HOST_GUEST_DIR to its guest/ folder")
            }
            settings.command = ["/bin/sh", files.imageManager, "--injector", injector.directory.path, "--workarea", injector.workarea.path]
        case .qemu(let arch, let kernel, let initrd, let append):
            let qemu = QemuGuest(arch: arch, kernel: kernel ?? files.kernel(arch), initrd: initrd ?? files.initrd(arch), append: append)
            try qemu.check(files: files)
            settings.command = qemu.commandLine(iso: injector.iso.path, monitorSocket: injector.monitorSocket.path)
            if settings.stopCommands.isEmpty {
                settings.stopCommands = QemuGuest.stopCommands(script: files.qemuStop, monitorSocket: injector.monitorSocket.path)
            }
            serverHost = QemuGuest.hostAddressInGuest
            needsISO = true
        case .command(let argv):
            needsISO = argv.contains { $0.contains("{injector_iso}") }
            settings.command = argv.map {
                $0.replacingEvery("{injector_iso}", with: injector.iso.path)
                    .replacingEvery("{injector}", with: injector.directory.path)
            }
        }
        settings.results += plan.results
        settings.optionalResults += plan.optionalResults
        settings.mirrors += plan.mirrors.map { ($0.prefix, $0.directory) }
        let job = try Job(settings)

        var extra: [String: String] = [:]
        if let linger = request.linger { extra["linger"] = String(Int(linger.rounded(.up))) }
        var runOptions = options
        runOptions.prepareLaunch = { [serverHost, needsISO, extra] address in
            let url = serverHost.map { "http://\($0):\(address.port)\(address.tokenPath)" } ?? address.url
            try injector.write(imageConf: Injector.imageConf(serverURI: url, plan: plan, extra: extra))
            if needsISO { try await injector.makeISO() }
        }
        let summary = try await SupportHostRun.execute(job, options: runOptions)
        let finish: [String: JSONValue] = [
            "stage": .string(VerbStage.finish.rawValue), "report": summary.report, "run_dir": .string(summary.runDirectory.url.path),
        ]
        guard let verdict = VerbVerdict(json: try await plugin.command(request.verb, arguments: finish)) else {
            throw GuestSetupError.badPlan("\(row.name) gave no verdict for \(request.verb)")
        }
        return VerbRunResult(summary: summary, verdict: verdict)
    }
}
