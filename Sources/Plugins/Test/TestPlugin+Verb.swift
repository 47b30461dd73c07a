import Foundation
import PluginAPI

/// `support-host test DIST`: serve the dist from a mirror, boot the guest; its image manager
/// fetches the dist, runs the scheme's steps and `PUT`s a PITA-XML `<report>` to `/<job_id>`;
/// print the TAP summary. Exit 0 when every step and test passed, 1 when one failed, the run's
/// own exit code when the run did not complete.
extension TestPlugin {
    public static var verbs: [Verb] {
        [Verb(name: "test", summary: "boot the guest, test DIST inside it (perl5: Makefile.PL, make, make test; sh: a TAP script); print the TAP summary", argument: "DIST")]
    }

    /// The exit code of a run that completed with a failing step or test.
    public static let testsFailedExitCode: Int32 = 1

    public func command(_ name: String, arguments: [String: JSONValue]) async throws -> JSONValue {
        guard name == "test", let stage = VerbStage(arguments: arguments) else {
            throw CommandError.unknownCommand(plugin: Self.name, command: name)
        }
        switch stage {
        case .prepare:
            return try Self.plan(arguments).json
        case .finish:
            return Self.verdict(VerbReport(arguments["report"] ?? .null)).json
        }
    }

    static func plan(_ arguments: [String: JSONValue]) throws -> VerbPlan {
        guard let dist = arguments["argument"]?.stringValue, !dist.isEmpty else { throw VerbError.missingDist }
        let mirrors = (arguments["mirrors"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.compactMap { prefix, directory in
            directory.stringValue.map { MirrorMount(prefix: prefix, directory: $0) }
        }
        let (mirrorPath, extra) = try locate(dist, in: mirrors)
        let fileName = (dist as NSString).lastPathComponent
        let scheme = try arguments["scheme"]?.stringValue ?? scheme(for: fileName)
        let path = scheme.hasPrefix("perl5") ? "/usr/bin/perl" : "/bin/sh"
        return VerbPlan(
            task: "Test", jobID: 1,
            taskKeys: ["scheme": scheme, "path": path, "filename": fileName, "mirror_path": mirrorPath],
            results: ["/1"], mirrors: extra)
    }

    /// A file on this host is served from its directory under `/dist`; a name is looked up in
    /// the `--mirror` directories (as a relative path, else by file name).
    static func locate(_ dist: String, in mirrors: [MirrorMount]) throws -> (String, [MirrorMount]) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dist, isDirectory: &isDirectory), !isDirectory.boolValue {
            let file = URL(fileURLWithPath: dist).standardizedFileURL
            return ("/dist/" + file.lastPathComponent, [MirrorMount(prefix: "/dist", directory: file.deletingLastPathComponent().path)])
        }
        for mirror in mirrors {
            let relative = dist.hasPrefix("/") ? String(dist.dropFirst()) : dist
            if !relative.split(separator: "/").contains(".."),
                FileManager.default.fileExists(atPath: mirror.directory + "/" + relative) {
                return (mirror.prefix + "/" + relative, [])
            }
            let walker = FileManager.default.enumerator(atPath: mirror.directory)
            while let candidate = walker?.nextObject() as? String {
                if (candidate as NSString).lastPathComponent == dist { return (mirror.prefix + "/" + candidate, []) }
            }
        }
        throw VerbError.distNotFound(dist)
    }

    static func scheme(for fileName: String) throws -> String {
        if fileName.hasSuffix(".tar.gz") || fileName.hasSuffix(".tgz") { return "perl5" }
        if fileName.hasSuffix(".t") || fileName.hasSuffix(".sh") { return "sh" }
        throw VerbError.unknownScheme(fileName)
    }

    static func verdict(_ run: VerbReport) -> VerbVerdict {
        let result = run.report["results"]?.arrayValue?.first { $0["path"]?.stringValue == "/1" }
        guard let summary = result?["pita_report"] else {
            let code = run.exitCode == 0 ? Self.testsFailedExitCode : run.exitCode
            return VerbVerdict(lines: ["no test report: \(run.line)"], exitCode: code, details: ["outcome": .string(run.outcome)])
        }
        var lines: [String] = []
        var passed: Int64 = 0
        var failed: Int64 = 0
        var stepsFailed = 0
        for command in summary["commands"]?.arrayValue ?? [] {
            let code = command["exit_code"]?.intValue
            if code != 0 { stepsFailed += 1 }
            lines.append("\(code == 0 ? "ok    " : "FAILED") \(command["cmd"]?.stringValue ?? "?") (exit \(code.map(String.init) ?? "?"))")
        }
        let tests = summary["tests"]?.arrayValue ?? []
        for test in tests {
            let (p, f) = (test["passed"]?.intValue ?? 0, test["failed"]?.intValue ?? 0)
            let code = test["exit_code"]?.intValue
            passed += p
            failed += f
            if code != 0 || f > 0 { stepsFailed += 1 }
            let planned = test["planned"]?.intValue.map { " of \($0)" } ?? ""
            lines.append("\(code == 0 && f == 0 ? "ok    " : "FAILED") \(test["name"]?.stringValue ?? "?"): \(p) passed\(planned), \(f) failed (exit \(code.map(String.init) ?? "?"))")
        }
        let pass = stepsFailed == 0 && !tests.isEmpty && run.exitCode == 0
        lines.append("\(pass ? "PASS" : "FAIL"): \(tests.count) test file\(tests.count == 1 ? "" : "s"), \(passed) passed, \(failed) failed")
        let code: Int32 = run.exitCode != 0 ? run.exitCode : pass ? 0 : Self.testsFailedExitCode
        return VerbVerdict(lines: lines, exitCode: code, details: [
            "pass": .bool(pass), "passed": .int(passed), "failed": .int(failed), "summary": summary, "outcome": .string(run.outcome),
        ])
    }
}

/// A verb was asked for something it cannot do; said before anything is launched.
public enum VerbError: Error, CustomStringConvertible, Sendable {
    case missingDist
    case distNotFound(String)
    case unknownScheme(String)

    public var description: String {
        switch self {
        case .missingDist: return "test needs a DIST: a tarball or TAP script on this host, or a name in a --mirror"
        case .distNotFound(let dist): return "\(dist) is neither a file nor found in any --mirror"
        case .unknownScheme(let name): return "cannot tell the scheme of \(name) (.tar.gz: perl5, .t or .sh: sh); give --scheme"
        }
    }
}
