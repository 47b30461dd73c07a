import FoundationEssentials
import PluginAPI
import SupportKit

/// A matrix: every dist tested on every guest, one ordinary run per cell. Read from a plan file
/// (or built from `--dist`/`--guest` flags) and checked whole before anything starts, so that a
/// bad plan names all its problems at once.
public struct MatrixPlan: Sendable, Equatable {
    public var dists: [String]
    public var guests: [MatrixGuest]
    /// The testing scheme for every dist (default: from each dist's name).
    public var scheme: String?
    /// Job keys shared by every cell (mirrors, timeouts, limits), as in a job file.
    public var settings: [String: JSONValue]
    /// Where the cells' run directories and the grid go.
    public var output: String
    /// Concurrent cells for the local executor (default: the cores, capped by memory for VMs).
    public var jobs: Int?

    public init(dists: [String], guests: [MatrixGuest], scheme: String? = nil, settings: [String: JSONValue] = [:], output: String, jobs: Int? = nil) {
        self.dists = dists
        self.guests = guests
        self.scheme = scheme
        self.settings = settings
        self.output = output
        self.jobs = jobs
    }

    /// The keys a plan may have.
    static let keys: Set<String> = ["dists", "guests", "scheme", "settings", "output", "jobs"]
    /// Job keys a plan may not set: the matrix chooses each cell's guest, results and directory,
    /// and every cell listens on a port of its own.
    static let cellOwnedKeys: Set<String> = [
        "command", "execute", "run_dir", "results", "http_result", "optional_results", "http_local_port", "listen", "token",
    ]

    public var cellCount: Int { dists.count * guests.count }

    /// Cell `index`: dists are rows, guests columns, numbered row by row.
    public func cell(_ index: Int) -> MatrixCell {
        let (row, column) = index.quotientAndRemainder(dividingBy: guests.count)
        return MatrixCell(index: index, dist: dists[row], guest: guests[column])
    }

    public var cells: [MatrixCell] { (0..<cellCount).map(cell) }

    public var outputURL: URL { URL(fileURLWithPath: output).standardizedFileURL }

    /// The plan as the matrix keeps it in its output directory (`plan.json`), paths absolute.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "dists": .array(dists.map(JSONValue.string)), "guests": .array(guests.map(\.json)),
            "settings": .object(settings), "output": .string(output),
        ]
        if let scheme { object["scheme"] = .string(scheme) }
        if let jobs { object["jobs"] = .int(Int64(jobs)) }
        return .object(object)
    }

    /// Reads a plan file; relative paths in it are taken from the file's directory. `check`
    /// false reads one the matrix wrote itself (`OUTPUT/plan.json`) without looking for its
    /// dists and guests again: `matrix report` must work where they are gone.
    public static func load(path: String, check: Bool = true) async throws(MatrixPlanError) -> MatrixPlan {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw MatrixPlanError(problems: ["cannot read plan \(path): \(fileErrorText(error))"])
        }
        let base = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent()
        return try await parse(data, base: base, check: check)
    }

    public static func parse(_ data: Data, base: URL, check: Bool = true) async throws(MatrixPlanError) -> MatrixPlan {
        let value: JSONValue
        do { value = try JSONValue.decode(data) } catch { throw MatrixPlanError(problems: ["the plan is not valid JSON: \(error)"]) }
        guard let object = value.objectValue else { throw MatrixPlanError(problems: ["the plan must be a JSON object"]) }
        var problems: [String] = []
        for key in object.keys.sorted() where !keys.contains(key) {
            problems.append("unknown plan key '\(key)' (known: \(keys.sorted().joined(separator: ", ")))")
        }
        var plan = MatrixPlan(dists: [], guests: [], output: "")
        if let dists = object["dists"] {
            if let items = dists.arrayValue {
                for (position, item) in items.enumerated() {
                    if let text = item.stringValue, !text.isEmpty {
                        plan.dists.append(resolve(text, base: base, onlyIfExists: true))
                    } else {
                        problems.append("dists[\(position)]: must be a tarball, TAP script or dist name (a string)")
                    }
                }
            } else {
                problems.append("'dists' must be a list of tarballs, TAP scripts or dist names")
            }
        }
        if let guests = object["guests"] {
            if let items = guests.arrayValue {
                for (position, item) in items.enumerated() {
                    do throws(MatrixPlanError) {
                        plan.guests.append(try MatrixGuest(json: item))
                    } catch {
                        problems += error.problems.map { "guests[\(position)]: \($0)" }
                    }
                }
            } else {
                problems.append("'guests' must be a list: \"local\", \"qemu:x86_64\", or {\"name\": …, \"command\": […]}")
            }
        }
        if let scheme = object["scheme"] {
            if let text = scheme.stringValue { plan.scheme = text } else { problems.append("'scheme' must be a string (perl5, sh)") }
        }
        if let settings = object["settings"] {
            if let fields = settings.objectValue {
                plan.settings = fields
                if let mirrors = fields["mirrors"]?.objectValue ?? fields["http_mirrors"]?.objectValue {
                    let key = fields["mirrors"] != nil ? "mirrors" : "http_mirrors"
                    plan.settings[key] = .object(mirrors.mapValues { $0.stringValue.map { .string(resolve($0, base: base)) } ?? $0 })
                }
            } else {
                problems.append("'settings' must be an object of job keys (mirrors, timeouts, limits)")
            }
        }
        if let output = object["output"] {
            if let text = output.stringValue, !text.isEmpty { plan.output = resolve(text, base: base) } else { problems.append("'output' must be a directory path") }
        }
        if let jobs = object["jobs"] {
            if let count = jobs.intValue, count > 0 { plan.jobs = Int(count) } else { problems.append("'jobs' must be a positive integer") }
        }
        // No 'output' is fine here: `--output` may give it (the command checks one was given).
        for required in ["dists", "guests"] where object[required] == nil {
            problems.append("the plan needs '\(required)'")
        }
        if check { problems += await plan.problems(checkOutput: false) }
        if !problems.isEmpty { throw MatrixPlanError(problems: problems) }
        return plan
    }

    /// Everything wrong with the plan, each problem once: settings the run would refuse, empty
    /// lists, two cells with one directory name, dists that cannot be found.
    public func problems(checkOutput: Bool = true) async -> [String] {
        var problems: [String] = []
        if checkOutput && output.isEmpty { problems.append("the plan needs 'output' (or give --output)") }
        var usable: [String: JSONValue] = [:]
        for key in settings.keys.sorted() {
            if Self.cellOwnedKeys.contains(key) {
                problems.append("settings.\(key): set by the matrix for each cell, not by the plan")
                continue
            }
            do throws(JobError) {
                _ = try JobSettings.parse(JSONValue.object([key: settings[key]!]).encoded(pretty: false))
                usable[key] = settings[key]
            } catch {
                problems.append("settings.\(key): \(error)")
            }
        }
        // The rest is checked with the settings that parsed, so one bad key hides nothing else.
        let shared = (try? JobSettings.parse(JSONValue.object(usable).encoded(pretty: false))) ?? JobSettings()
        var mirrorsUsable = true
        for (prefix, directory) in shared.mirrors {
            var isDirectory = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory {
                problems.append("settings.mirrors.\(prefix): '\(directory)' is not a directory")
                mirrorsUsable = false
            }
        }
        if dists.isEmpty { problems.append("no dists: the plan's 'dists' (or --dist) must name at least one") }
        if guests.isEmpty { problems.append("no guests: the plan's 'guests' (or --guest) must name at least one") }
        for (name, count) in Dictionary(dists.map { (MatrixCell.slug(lastPathComponent(of: $0)), 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) where count > 1 {
            problems.append("dists: \(count) dists are named \(name); a cell's directory is named after its dist's file name")
        }
        for (name, count) in Dictionary(guests.map { ($0.slug, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) where count > 1 {
            problems.append("guests: \(count) guests are named \(name)")
        }
        let files = GuestFiles.locate()
        for guest in guests {
            do {
                switch guest.choice {
                case .qemu(let name):
                    let arch = QemuArch(rawValue: name) ?? .x86_64
                    try QemuGuest(arch: arch, kernel: files.kernel(arch), initrd: files.initrd(arch)).check(files: files)
                case .local:
                    if !FileManager.default.fileExists(atPath: files.imageManager) {
                        throw GuestSetupError.missingFile(files.imageManager, "set SUPPORT_HOST_GUEST_DIR to the project's guest/ folder")
                    }
                case .command: break
                }
            } catch {
                problems.append("guest \(guest.name): \(error)")
            }
        }
        if mirrorsUsable {
            for dist in dists {
                if let problem = await MatrixCellRun.checkDist(dist, scheme: scheme, settings: shared) { problems.append("dist \(dist): \(problem)") }
            }
        }
        return problems
    }

    /// The shared settings as a job's, to which each cell adds its guest and directory.
    func jobSettings() throws(JobError) -> JobSettings {
        try JobSettings.parse(JSONValue.object(settings).encoded(pretty: false))
    }

    public static func resolve(_ path: String, base: URL, onlyIfExists: Bool = false) -> String {
        if path.hasPrefix("/") { return path }
        let candidate = base.appendingPathComponent(path).standardizedFileURL.path
        if onlyIfExists && !FileManager.default.fileExists(atPath: candidate) { return path }
        return candidate
    }
}

/// A plan the matrix refuses (exit 64), with every problem found.
public struct MatrixPlanError: Error, CustomStringConvertible, Sendable {
    public var problems: [String]

    public init(problems: [String]) { self.problems = problems }

    public var description: String {
        "bad plan (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}
