import FoundationEssentials
import PluginAPI
import SupportKit

/// What a PITA-XML `<report>` says, in a few numbers: per `<test>` its name, exit code and,
/// for TAP output, the plan and the passed / failed / TODO counts; per `<command>` the command
/// and its exit code (PITA-XML 0.52 records none for commands, so it is usually null). Our image
/// manager adds to 0.52 a `<duration>` (seconds) per step and a `<grade reason='…'>` per install.
public struct PITAReportSummary: Sendable, Equatable {
    public struct Test: Sendable, Equatable {
        public var name: String?
        public var language: String
        public var exitCode: JSONValue
        public var planned: Int?
        public var passed: Int?
        public var failed: Int?
        public var todo: Int?
        public var duration: Double?
        /// The first `not ok` lines, each with the `#` diagnostics that follow it.
        public var failures: [String] = []
        /// The end of stderr when the test file failed: what a person reads first.
        public var stderrTail: [String] = []
    }

    public struct Command: Sendable, Equatable {
        public var command: String
        public var exitCode: JSONValue
        public var duration: Double?
        /// The end of stderr when the command failed.
        public var stderrTail: [String] = []
    }

    /// The CPAN Testers grade the guest gave (`PASS`, `FAIL`, `NA`, `UNKNOWN`) and why.
    public struct Grade: Sendable, Equatable {
        public var grade: String
        public var reason: String
    }

    /// The grades a report may carry.
    public static let grades: Set<String> = ["PASS", "FAIL", "NA", "UNKNOWN"]

    /// Entries kept per list; a report with more says so with `truncated`.
    static let maxEntries = 1000
    static let maxTextBytes = 1024

    public var installs: Int
    public var tests: [Test]
    public var commands: [Command]
    public var truncated: Bool
    public var grade: Grade?

    init(_ report: XMLTreeNode) {
        installs = report.children("install").count
        let testElements = report.descendants("test")
        let commandElements = report.descendants("command")
        truncated = testElements.count > Self.maxEntries || commandElements.count > Self.maxEntries
        tests = testElements.prefix(Self.maxEntries).map { element in
            let language = element.attributes["language"] ?? "text/x-tap"
            var test = Test(
                name: element.attributes["name"].map { Self.clip($0) }, language: Self.clip(language),
                exitCode: Self.exitCode(element), duration: Self.duration(element))
            if language == "text/x-tap" {
                let counts = TAPCounts(element.child("stdout")?.text ?? "")
                test.planned = counts.planned
                test.passed = counts.passed
                test.failed = counts.failed
                test.todo = counts.todo
                test.failures = counts.failures
            }
            if !test.failures.isEmpty || !(test.exitCode == .int(0) || test.exitCode == .null) {
                test.stderrTail = Self.tail(element.child("stderr")?.text ?? "")
            }
            return test
        }
        commands = commandElements.prefix(Self.maxEntries).map { element in
            var command = Command(
                command: Self.clip(element.child("cmd")?.text.trimmingWhitespace() ?? ""),
                exitCode: Self.exitCode(element), duration: Self.duration(element))
            if !(command.exitCode == .int(0) || command.exitCode == .null) {
                command.stderrTail = Self.tail(element.child("stderr")?.text ?? "")
            }
            return command
        }
        grade = report.descendants("grade").first.flatMap { element in
            let value = element.text.trimmingWhitespace()
            guard Self.grades.contains(value) else { return nil }
            return Grade(grade: value, reason: Self.clip(element.attributes["reason"] ?? ""))
        }
    }

    /// Lines kept of a failing step's stderr, and of each line.
    static let tailLines = 10
    static let maxLineBytes = 300

    /// The last non-empty lines of a step's output, each clipped.
    static func tail(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingSpaces().isEmpty }
            .suffix(tailLines).map(clipLine)
    }

    static func clipLine(_ line: String) -> String {
        line.utf8.count <= maxLineBytes ? line : String(decoding: Array(line.utf8.prefix(maxLineBytes)), as: UTF8.self) + "…"
    }

    private static func duration(_ element: XMLTreeNode) -> Double? {
        guard let text = element.child("duration")?.text.trimmingWhitespace(),
            let seconds = Double(text), seconds.isFinite, seconds >= 0
        else { return nil }
        return seconds
    }

    private static func exitCode(_ element: XMLTreeNode) -> JSONValue {
        guard let text = element.child("exitcode")?.text.trimmingWhitespace(), !text.isEmpty else {
            return .null
        }
        return Int64(text).map { .int($0) } ?? .string(clip(text))
    }

    private static func clip(_ text: String) -> String {
        text.utf8.count <= maxTextBytes ? text : String(decoding: Array(text.utf8.prefix(maxTextBytes)), as: UTF8.self)
    }

    /// The summary as a journal record and a `report.json` entry.
    public var json: JSONValue {
        func optional(_ value: Int?) -> JSONValue { value.map { .int(Int64($0)) } ?? .null }
        func seconds(_ value: Double?) -> JSONValue { value.map { .double($0) } ?? .null }
        var json: [String: JSONValue] = [
            "installs": .int(Int64(installs)), "truncated": .bool(truncated),
            "tests": .array(tests.map { test in
                [
                    "name": test.name.map { .string($0) } ?? .null, "language": .string(test.language),
                    "exit_code": test.exitCode, "planned": optional(test.planned), "passed": optional(test.passed),
                    "failed": optional(test.failed), "todo": optional(test.todo), "duration": seconds(test.duration),
                    "failures": .array(test.failures.map { .string($0) }), "stderr_tail": .array(test.stderrTail.map { .string($0) }),
                ]
            }),
            "commands": .array(commands.map {
                [
                    "cmd": .string($0.command), "exit_code": $0.exitCode, "duration": seconds($0.duration),
                    "stderr_tail": .array($0.stderrTail.map { .string($0) }),
                ]
            }),
        ]
        if let grade { json["grade"] = ["grade": .string(grade.grade), "reason": .string(grade.reason)] }
        return .object(json)
    }
}

/// Counts the top-level lines of TAP output: `1..N` is the plan, `ok` a pass (skips included),
/// `not ok` a failure unless it carries a `# TODO` directive.
/// The first failures are kept with their diagnostics (`#` lines after a `not ok`), so a
/// report says why a test failed, not only that it did.
struct TAPCounts {
    static let maxFailures = 5
    static let maxDiagnostics = 8

    var planned: Int?
    var passed = 0
    var failed = 0
    var todo = 0
    var failures: [String] = []

    init(_ output: String) {
        var diagnostics = 0
        var inFailure = false
        for line in output.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("ok") && (line.count == 2 || line.dropFirst(2).first == " ") {
                passed += 1
                inFailure = false
            } else if line.hasPrefix("not ok") {
                if line.lowercased().contains("# todo") {
                    todo += 1
                    inFailure = false
                } else {
                    failed += 1
                    inFailure = failures.count < Self.maxFailures
                    diagnostics = 0
                    if inFailure { failures.append(PITAReportSummary.clipLine(String(line))) }
                }
            } else if line.hasPrefix("1..") {
                planned = Int(line.dropFirst(3).prefix { $0.isNumber })
                inFailure = false
            } else if inFailure, line.hasPrefix("#"), diagnostics < Self.maxDiagnostics {
                diagnostics += 1
                failures[failures.count - 1] += "\n" + PITAReportSummary.clipLine(String(line))
            }
        }
    }
}
