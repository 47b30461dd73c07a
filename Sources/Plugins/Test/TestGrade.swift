import PluginAPI

/// The CPAN Testers grade of a tested dist, from the Test plug-in's stored results alone (so
/// `report` and `recover` give it again): `PASS`, `FAIL` (tests ran and failed, or the build
/// failed), `NA` (the dist says it cannot run here), `UNKNOWN` (no tests, not a dist, no way to
/// tell). The image manager states a grade with its reason (`<grade>`, which alone can tell NA
/// from FAIL: it has the output); what the tests and steps show overrules it where they
/// disagree, so a guest cannot call failing tests a PASS.
struct TestGrade: Equatable, Sendable {
    var grade: String
    var reason: String
    /// Test files that failed (a non-zero exit or a `not ok`), in the order they ran.
    var failingTests: [String]

    /// Where the guest sends each finished step: `<report path>/step/N`.
    static let stepInfix = "/step/"

    /// The grade of the first report among `summaries` (path → `pita_report`), helped by its
    /// steps; of the steps alone when the report never came. Nil when nothing was tested.
    static func of(summaries: [String: JSONValue]) -> TestGrade? {
        let reports = summaries.keys.filter { !$0.contains(stepInfix) }.sorted()
        if let path = reports.first, let summary = summaries[path] { return of(report: summary) }
        let steps = summaries.compactMap { path, summary -> (Int, JSONValue)? in
            guard let range = path.firstRange(of: stepInfix), let number = Int(path[range.upperBound...]) else { return nil }
            return (number, summary)
        }.sorted { $0.0 < $1.0 }.map(\.1)
        return steps.isEmpty ? nil : of(unfinished: steps)
    }

    /// A finished report.
    static func of(report: JSONValue) -> TestGrade {
        let tests = report["tests"]?.arrayValue ?? []
        let commands = report["commands"]?.arrayValue ?? []
        let failing = failingTests(tests)
        if !failing.isEmpty {
            return TestGrade(grade: "FAIL", reason: "failing test files: " + failing.joined(separator: ", "), failingTests: failing)
        }
        let failedCommand = commands.first { ($0["exit_code"]?.intValue ?? 0) != 0 }
        let said = report["grade"].flatMap { grade in
            grade["grade"]?.stringValue.map { TestGrade(grade: $0, reason: grade["reason"]?.stringValue ?? "", failingTests: []) }
        }
        switch said?.grade {
        case "NA"?, "UNKNOWN"?, "FAIL"?:
            return said!
        default:
            if let failedCommand {
                let exit = failedCommand["exit_code"]?.intValue.map(String.init) ?? "none"
                return TestGrade(grade: "FAIL", reason: "\(failedCommand["cmd"]?.stringValue ?? "a step") exited \(exit)", failingTests: [])
            }
            if tests.isEmpty { return TestGrade(grade: "UNKNOWN", reason: "no test files ran", failingTests: []) }
            return TestGrade(grade: "PASS", reason: said?.reason ?? "all \(tests.count) test files passed", failingTests: [])
        }
    }

    /// The steps of a test whose report never came (the run was cut short, a hang say): once
    /// the build was made or a test ran, the tests did not finish, which is a FAIL.
    static func of(unfinished steps: [JSONValue]) -> TestGrade {
        let tests = steps.flatMap { $0["tests"]?.arrayValue ?? [] }
        let commands = steps.flatMap { $0["commands"]?.arrayValue ?? [] }
        let last = (steps.last?["tests"]?.arrayValue?.last?["name"] ?? steps.last?["commands"]?.arrayValue?.last?["cmd"])?.stringValue ?? "?"
        let failing = failingTests(tests)
        if !failing.isEmpty {
            return TestGrade(grade: "FAIL", reason: "failing test files: " + failing.joined(separator: ", ") + "; the report never came", failingTests: failing)
        }
        let built = commands.contains { ["make", "./Build"].contains($0["cmd"]?.stringValue) && $0["exit_code"]?.intValue == 0 }
        if built || !tests.isEmpty {
            return TestGrade(grade: "FAIL", reason: "the tests did not finish: the last step to end was \(last); the report never came", failingTests: [])
        }
        return TestGrade(grade: "UNKNOWN", reason: "the run ended before the tests: the last step to end was \(last)", failingTests: [])
    }

    private static func failingTests(_ tests: [JSONValue]) -> [String] {
        tests.filter { test in (test["exit_code"]?.intValue ?? 0) != 0 || (test["failed"]?.intValue ?? 0) > 0 }
            .map { $0["name"]?.stringValue ?? "?" }
    }

    /// The top-level `report.json` keys (the matrix reads them).
    var reportFields: [String: JSONValue] {
        ["grade": .string(grade), "grade_reason": .string(reason), "failing_tests": .array(failingTests.map { .string($0) })]
    }
}
