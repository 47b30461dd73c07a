import Foundation
import PluginAPI

/// Matrix plans for tests: small dists (the tiny Perl dist and TAP scripts) on `--guest local`
/// and on launcher guests that run a private copy of the image manager, so that a test can
/// find its own guest processes by that copy's path.
struct MatrixFixture {
    let directory: URL
    /// A copy of guest/image-manager.sh only this fixture's guests run.
    let imageManager: String

    init() throws {
        directory = Fixtures.temporaryDirectory("matrix")
        imageManager = directory.appendingPathComponent("image-manager-\(UUID().uuidString.prefix(8)).sh").path
        try FileManager.default.copyItem(atPath: Fixtures.packageRoot.appendingPathComponent("guest/image-manager.sh").path, toPath: imageManager)
    }

    var output: URL { directory.appendingPathComponent("out") }

    /// A TAP script (`sh` scheme) named `name` with `body` between its plan line and its end.
    func tapScript(_ name: String, tests: Int, body: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data("echo 1..\(tests)\n\(body)\n".utf8).write(to: url)
        return url.path
    }

    /// Passes everywhere.
    func passing(_ name: String, sleep seconds: Double = 0) throws -> String {
        try tapScript(name, tests: 2, body: "\(seconds > 0 ? "sleep \(seconds)\n" : "")echo 'ok 1 - one'\necho 'ok 2 - two'")
    }

    /// Fails on the guest whose launcher sets GUEST_FLAVOUR=b.
    func failingOnFlavourB(_ name: String) throws -> String {
        try tapScript(name, tests: 1, body: #"[ "${GUEST_FLAVOUR:-}" = b ] && echo 'not ok 1 - flavour b' || echo 'ok 1 - flavour'"#)
    }

    /// A launcher guest: this fixture's image manager with GUEST_FLAVOUR set.
    func launcher(_ name: String, flavour: String) -> JSONValue {
        ["name": .string(name), "command": ["/usr/bin/env", .string("GUEST_FLAVOUR=\(flavour)"), "/bin/sh", .string(imageManager), "--injector", "{injector}"]]
    }

    /// Writes `plan.json` and returns its path.
    func plan(dists: [String], guests: [JSONValue], output: URL? = nil) throws -> String {
        let plan: JSONValue = [
            "dists": .array(dists.map(JSONValue.string)), "guests": .array(guests),
            "settings": ["startup_timeout": 60, "total_timeout": 300], "output": .string((output ?? self.output).path),
        ]
        let url = directory.appendingPathComponent("plan-\(UUID().uuidString.prefix(8)).json")
        try plan.encoded(pretty: true).write(to: url)
        return url.path
    }

    /// The pids of processes whose command line mentions `marker` (this fixture's guests, say).
    static func processes(mentioning marker: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
            let text = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return text.contains(marker) && Fixtures.isAlive(pid) ? pid : nil
        }
    }
}

/// A matrix's output read back.
struct MatrixFiles {
    let url: URL

    var grid: JSONValue {
        get throws { try JSONValue.decode(Data(contentsOf: url.appendingPathComponent("matrix.json"))) }
    }

    /// `dist on guest` → grade, from matrix.json.
    var grades: [String: String] {
        get throws {
            var grades: [String: String] = [:]
            for cell in try grid["cells"]?.arrayValue ?? [] {
                grades["\(cell["dist"]?.stringValue ?? "?") on \(cell["guest"]?.stringValue ?? "?")"] = cell["grade"]?.stringValue
            }
            return grades
        }
    }

    var table: String { (try? String(contentsOf: url.appendingPathComponent("matrix.txt"), encoding: .utf8)) ?? "" }

    func report(_ cell: String) -> Data? { try? Data(contentsOf: url.appendingPathComponent("cells/\(cell)/report.json")) }
}
