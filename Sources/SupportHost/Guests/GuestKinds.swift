import FoundationEssentials
import PluginAPI

/// The guests of a job given by kind instead of a command: `"guest": "local"` (the image
/// manager as a process) or `"guest": "qemu:ARCH"` (the built VM), each doing a scheme verb
/// (`"verb": "test", "argument": "client.t"`). Before the run each is planned
/// by its verb's plug-in (the task, the results it sends, the mirrors it reads) and given an
/// injector and a command line, as `SchemeVerbRun` does for a run of one guest; once the host
/// listens, each guest's `image.conf` is written with its own URL and token.
public struct GuestKinds: Sendable {
    struct Planned: Sendable {
        let guest: String
        let plan: VerbPlan
        let injector: Injector
        let inVM: Bool
    }

    let planned: [Planned]

    /// Plans every guest given by kind and fills in its command, stop commands and results;
    /// the mirrors its plan needs are added to the job's. Guests given by command are left as
    /// they are.
    public static func prepare(_ settings: inout JobSettings) async throws -> GuestKinds {
        let files = GuestFiles.locate()
        var planned: [Planned] = []
        do {
            for index in settings.guests.indices {
                let entry = settings.guests[index]
                guard let kind = entry.kind else { continue }
                guard entry.command == nil else { throw JobError.badGuest(index: index, reason: "give it a command or a guest kind, not both") }
                // No default verb: the host names no plug-in's verb; the job says which it wants.
                let verbs = PluginTable.verbs.map(\.verb.name)
                guard let verb = entry.verb else {
                    throw JobError.badGuest(index: index, reason: "a guest of kind \(kind) needs a verb (\(verbs.joined(separator: ", ")))")
                }
                guard let row = PluginTable.row(offering: verb) else {
                    throw GuestSetupError.unknownVerb(verb, PluginTable.verbs.map(\.verb.name))
                }
                let plugin = try PluginTable.make(row, context: PluginContext(
                    source: row.name, runDirectory: URL(fileURLWithPath: settings.runDirectory ?? "."),
                    configuration: RunConfiguration(settings: settings.pluginSettings), journal: nil, events: nil))
                var arguments: [String: JSONValue] = [
                    "stage": .string(VerbStage.prepare.rawValue),
                    "mirrors": .object(Dictionary(settings.mirrors.map { ($0.0, JSONValue.string($0.1)) }) { first, _ in first }),
                ]
                if let argument = entry.argument { arguments["argument"] = .string(argument) }
                if let scheme = entry.scheme { arguments["scheme"] = .string(scheme) }
                guard let plan = VerbPlan(json: try await plugin.command(verb, arguments: arguments)) else {
                    throw GuestSetupError.badPlan("\(row.name) answered no task for \(verb) (guest \(entry.name ?? "?"))")
                }
                let injector = try Injector.create()
                planned.append(Planned(guest: entry.name ?? "", plan: plan, injector: injector, inVM: kind != "local"))
                var guest = entry
                if kind == "local" {
                    guard FileManager.default.fileExists(atPath: files.imageManager) else {
                        throw GuestSetupError.missingFile(files.imageManager, "run from the project, or set SUPPORT_HOST_GUEST_DIR to its guest/ folder")
                    }
                    guest.command = ["/bin/sh", files.imageManager, "--injector", injector.directory.path, "--workarea", injector.workarea.path]
                } else {
                    guard let arch = QemuArch(guestName: kind) else {
                        throw JobError.badGuest(index: index, reason: "no guest kind '\(kind)'; the kinds are \(QemuArch.guestNames.joined(separator: ", "))")
                    }
                    let qemu = QemuGuest(arch: arch, kernel: files.kernel(arch), initrd: files.initrd(arch))
                    try qemu.check(files: files)
                    // The run reserves the network's port once the job is prepared: placeholders
                    // until then, filled in per guest by `GuestLaunch`.
                    guest.command = qemu.commandLine(
                        iso: injector.iso.path, monitorSocket: injector.monitorSocket.path,
                        privateNetwork: settings.privateNetwork == true ? .placeholders : nil)
                    if guest.stopCommands == nil {
                        guest.stopCommands = QemuGuest.stopCommands(script: files.qemuStop, monitorSocket: injector.monitorSocket.path)
                    }
                }
                guest.results = (entry.results ?? settings.results) + plan.results
                guest.optionalResults = (entry.optionalResults ?? settings.optionalResults) + plan.optionalResults
                settings.guests[index] = guest
                for mount in plan.mirrors {
                    if let same = settings.mirrors.first(where: { $0.0 == mount.prefix }) {
                        guard URL(fileURLWithPath: same.1).standardizedFileURL.path == mount.directory else {
                            throw JobError.badGuest(index: index, reason: "its plan serves \(mount.prefix) from \(mount.directory), which another guest's serves from \(same.1)")
                        }
                        continue
                    }
                    settings.mirrors.append((mount.prefix, mount.directory))
                }
            }
        } catch {
            for planned in planned { planned.injector.remove() }
            throw error
        }
        return GuestKinds(planned: planned)
    }

    /// Writes one guest's `image.conf` (and the ISO of a VM's injector) with its own address:
    /// `RunOptions.prepareGuestLaunch`.
    public func prepareLaunch(guest: String, address: GuestAddress) async throws {
        guard let planned = planned.first(where: { $0.guest == guest }) else { return }
        let url = planned.inVM ? "http://\(QemuGuest.hostAddressInGuest):\(address.port)\(address.tokenPath)" : address.url
        try planned.injector.write(imageConf: Injector.imageConf(serverURI: url, plan: planned.plan, extra: [:]))
        if planned.inVM { try await planned.injector.makeISO() }
    }

    /// Removes the injectors (they hold the guests' tokens), after the run.
    public func remove() {
        for planned in planned { planned.injector.remove() }
    }
}
