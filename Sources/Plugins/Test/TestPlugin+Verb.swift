import FoundationEssentials
import PluginAPI
import SupportKit

/// `support-host test DIST`: serve the dist from a mirror, boot the guest; its image manager
/// fetches the dist, runs the scheme's steps (perl5: dependencies from the run's CPAN mirror,
/// Makefile.PL, make, each test file, make test), sends each finished step to
/// `/<job_id>/step/N` and a PITA-XML `<report>` to `/<job_id>`; print each step, the grade
/// and the failing test files. The exit code is the grade's (`gradeExitCodes`) when the run
/// completed, the run's own exit code when it did not.
extension TestPlugin {
    public static var verbs: [Verb] {
        [Verb(name: "test", summary: "boot the guest, test DIST inside it (perl5: cpanm --installdeps, Makefile.PL, make, make test; sh: a TAP script); print the grade (PASS, FAIL, NA, UNKNOWN)", argument: "DIST")]
    }

    /// The exit code of a run that completed with a failing step or test.
    public static let testsFailedExitCode: Int32 = 1
    /// The exit code of each grade of a completed run: 0 PASS, 1 FAIL, 2 NA, 3 UNKNOWN (none of
    /// them a run outcome's code; see `Outcome`).
    public static let gradeExitCodes: [String: Int32] = ["PASS": 0, "FAIL": testsFailedExitCode, "NA": 2, "UNKNOWN": 3]
    /// Step uploads a test may make before its report (the image manager stops sending after).
    static let maxStepUploads = 32

    public func command(_ name: String, arguments: [String: JSONValue]) async throws -> JSONValue {
        guard name == "test", let stage = VerbStage(arguments: arguments) else {
            throw CommandError.unknownCommand(plugin: Self.name, command: name)
        }
        switch stage {
        case .prepare:
            return try Self.plan(arguments).json
        case .finish:
            // A run cut short shows the console's last lines too: the host prints the report's
            // `console_tail` after every run that did not complete.
            let verdict = Self.verdict(VerbReport(arguments["report"] ?? .null))
            return verdict.json
        }
    }

    static func plan(_ arguments: [String: JSONValue]) throws -> VerbPlan {
        guard let dist = arguments["argument"]?.stringValue, !dist.isEmpty else { throw VerbError.missingDist }
        let mirrors = (arguments["mirrors"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.compactMap { prefix, directory in
            directory.stringValue.map { MirrorMount(prefix: prefix, directory: $0) }
        }
        let (mirrorPath, extra) = try locate(dist, in: mirrors)
        let fileName = lastPathComponent(of: dist)
        let scheme = try arguments["scheme"]?.stringValue ?? scheme(for: fileName)
        let path = scheme.hasPrefix("perl5") ? "/usr/bin/perl" : "/bin/sh"
        var taskKeys = ["scheme": scheme, "path": path, "filename": fileName, "mirror_path": mirrorPath]
        if let cpan = mirrors.first(where: { FileManager.default.fileExists(atPath: $0.directory + "/modules/02packages.details.txt.gz") }) {
            taskKeys["cpan_mirror"] = cpan.prefix
        }
        var plan = VerbPlan(task: "Test", jobID: 1, taskKeys: taskKeys, results: ["/1"], mirrors: extra)
        plan.optionalResults = (1...maxStepUploads).map { "/1\(TestGrade.stepInfix)\($0)" }
        return plan
    }

    /// A file on this host is served from its directory under `/dist`; a name is looked up in
    /// the `--mirror` directories (as a relative path, else by file name).
    static func locate(_ dist: String, in mirrors: [MirrorMount]) throws -> (String, [MirrorMount]) {
        var isDirectory = false
        if FileManager.default.fileExists(atPath: dist, isDirectory: &isDirectory), !isDirectory {
            let file = URL(fileURLWithPath: dist).standardizedFileURL
            return ("/dist/" + file.lastPathComponent, [MirrorMount(prefix: "/dist", directory: file.deletingLastPathComponent().path)])
        }
        for mirror in mirrors {
            let relative = dist.hasPrefix("/") ? String(dist.dropFirst()) : dist
            if !relative.split(separator: "/").contains(".."),
                FileManager.default.fileExists(atPath: mirror.directory + "/" + relative) {
                return (mirror.prefix + "/" + relative, [])
            }
            for candidate in (try? FileManager.default.subpathsOfDirectory(atPath: mirror.directory)) ?? [] {
                if lastPathComponent(of: candidate) == dist { return (mirror.prefix + "/" + candidate, []) }
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
        let results = run.report["results"]?.arrayValue ?? []
        let final = results.first { $0["path"]?.stringValue == "/1" }?["pita_report"]
        let steps = results.filter { $0["path"]?.stringValue?.hasPrefix("/1" + TestGrade.stepInfix) == true }
            .sorted { stepNumber($0) < stepNumber($1) }.compactMap { $0["pita_report"] }
        var lines: [String] = []
        var passed: Int64 = 0
        var failed: Int64 = 0
        let shown = final.map { [$0] } ?? steps
        if final == nil { lines.append("no test report: \(run.line)") }
        if final == nil && !steps.isEmpty { lines.append("the steps that ended before it:") }
        for summary in shown {
            for command in summary["commands"]?.arrayValue ?? [] {
                let code = command["exit_code"]?.intValue
                lines.append("\(code == 0 ? "ok    " : "FAILED") \(command["cmd"]?.stringValue ?? "?") (exit \(code.map(String.init) ?? "?")\(took(command)))")
                lines += detail(command)
            }
            for test in summary["tests"]?.arrayValue ?? [] {
                let (p, f) = (test["passed"]?.intValue ?? 0, test["failed"]?.intValue ?? 0)
                let code = test["exit_code"]?.intValue
                passed += p
                failed += f
                let planned = test["planned"]?.intValue.map { " of \($0)" } ?? ""
                lines.append("\(code == 0 && f == 0 ? "ok    " : "FAILED") \(test["name"]?.stringValue ?? "?"): \(p) passed\(planned), \(f) failed (exit \(code.map(String.init) ?? "?")\(took(test)))")
                lines += detail(test)
            }
        }
        let testCount = shown.reduce(0) { $0 + ($1["tests"]?.arrayValue?.count ?? 0) }
        let grade = run.report["grade"]?.stringValue
        var details: [String: JSONValue] = ["passed": .int(passed), "failed": .int(failed), "outcome": .string(run.outcome)]
        if let final { details["summary"] = final }
        if !steps.isEmpty && final == nil { details["steps"] = .array(steps) }
        if let grade {
            let failing = run.report["failing_tests"]?.arrayValue?.compactMap(\.stringValue) ?? []
            // The run's outcome and the test's grade are two things: both named, on one line.
            lines.append("grade \(grade), run \(run.outcome): \(testCount) test file\(testCount == 1 ? "" : "s"), \(passed) passed, \(failed) failed (\(run.report["grade_reason"]?.stringValue ?? ""))")
            if !failing.isEmpty { lines.append("failing test files: " + failing.joined(separator: " ")) }
            details["grade"] = .string(grade)
            details["grade_reason"] = run.report["grade_reason"] ?? .null
            details["failing_tests"] = .array(failing.map { .string($0) })
        }
        details["pass"] = .bool(grade == "PASS" && run.exitCode == 0)
        let code: Int32 = run.exitCode != 0 ? run.exitCode : grade.flatMap { gradeExitCodes[$0] } ?? testsFailedExitCode
        return VerbVerdict(lines: lines, exitCode: code, details: .object(details))
    }

    /// Under a failed step: its `not ok` lines with their diagnostics, then its stderr's end.
    private static func detail(_ step: JSONValue) -> [String] {
        let failures = step["failures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let stderr = step["stderr_tail"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var lines = failures.flatMap { $0.split(separator: "\n").map { "         " + $0 } }
        if !stderr.isEmpty { lines += ["         stderr, last \(stderr.count) line\(stderr.count == 1 ? "" : "s"):"] + stderr.map { "         | " + $0 } }
        return lines
    }

    private static func stepNumber(_ result: JSONValue) -> Int {
        let path = result["path"]?.stringValue ?? ""
        return path.firstRange(of: TestGrade.stepInfix).flatMap { Int(path[$0.upperBound...]) } ?? 0
    }

    private static func took(_ step: JSONValue) -> String {
        step["duration"]?.doubleValue.map { String(printf: ", %.1f s", $0) } ?? ""
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
