import Foundation
import PluginAPI

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
    }

    public struct Command: Sendable, Equatable {
        public var command: String
        public var exitCode: JSONValue
        public var duration: Double?
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
            }
            return test
        }
        commands = commandElements.prefix(Self.maxEntries).map { element in
            Command(
                command: Self.clip(element.child("cmd")?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""),
                exitCode: Self.exitCode(element), duration: Self.duration(element))
        }
        grade = report.descendants("grade").first.flatMap { element in
            let value = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard Self.grades.contains(value) else { return nil }
            return Grade(grade: value, reason: Self.clip(element.attributes["reason"] ?? ""))
        }
    }

    private static func duration(_ element: XMLTreeNode) -> Double? {
        guard let text = element.child("duration")?.text.trimmingCharacters(in: .whitespacesAndNewlines),
            let seconds = Double(text), seconds.isFinite, seconds >= 0
        else { return nil }
        return seconds
    }

    private static func exitCode(_ element: XMLTreeNode) -> JSONValue {
        guard let text = element.child("exitcode")?.text.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
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
                ]
            }),
            "commands": .array(commands.map { ["cmd": .string($0.command), "exit_code": $0.exitCode, "duration": seconds($0.duration)] }),
        ]
        if let grade { json["grade"] = ["grade": .string(grade.grade), "reason": .string(grade.reason)] }
        return .object(json)
    }
}

/// Counts the top-level lines of TAP output: `1..N` is the plan, `ok` a pass (skips included),
/// `not ok` a failure unless it carries a `# TODO` directive.
struct TAPCounts {
    var planned: Int?
    var passed = 0
    var failed = 0
    var todo = 0

    init(_ output: String) {
        for line in output.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("ok") && (line.count == 2 || line.dropFirst(2).first == " ") {
                passed += 1
            } else if line.hasPrefix("not ok") {
                if line.range(of: "# TODO", options: .caseInsensitive) != nil { todo += 1 } else { failed += 1 }
            } else if line.hasPrefix("1..") {
                planned = Int(line.dropFirst(3).prefix { $0.isNumber })
            }
        }
    }
}
