import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// A scheme verb a plug-in offers on the command line, e.g. `support-host discover`.
///
/// The host finds the plug-in that offers a verb through the plug-in table and calls its
/// command hook twice: once with `VerbStage.prepare` to learn what the run needs (a `VerbPlan`),
/// once with `VerbStage.finish` and the finished run's report to learn what it means (a
/// `VerbVerdict`). So adding a verb is a change to a plug-in, never to the command-line tool.
///
/// ```swift
/// static let verbs = [Verb(name: "ping", summary: "boot the guest, wait for its ping, stop it")]
/// ```
public struct Verb: Sendable, Equatable {
    /// The word on the command line (`ping`).
    public var name: String
    /// One line for `support-host --help` and `support-host plugins`.
    public var summary: String
    /// The name of the verb's one positional argument (`DIST`), or nil when it takes none.
    public var argument: String?

    public init(name: String, summary: String, argument: String? = nil) {
        self.name = name
        self.summary = summary
        self.argument = argument
    }
}

/// The two calls of a verb's command hook; the stage is `arguments["stage"]`.
///
/// At `prepare` the arguments also hold `argument` (the positional argument, a string, when
/// given) and `scheme` (`--scheme`, when given); the hook answers `VerbPlan.json`. At `finish`
/// they hold `report` (the run's `report.json`) and `run_dir`; the hook answers
/// `VerbVerdict.json`.
public enum VerbStage: String, Sendable {
    case prepare
    case finish
}

/// What a verb asks of a run: the task the image manager is given in `image.conf`, the result
/// paths to wait for and the directories to serve.
public struct VerbPlan: Sendable, Equatable {
    /// PITA's task name for `[task] task=` in `image.conf`: `Ping`, `Discover` or `Test`.
    public var task: String
    /// PITA's job id: the image manager `PUT`s its document to `/<job_id>`.
    public var jobID: Int
    /// More `[task]` keys of `image.conf` (`scheme`, `path`, `filename`, `mirror_path`).
    public var taskKeys: [String: String]
    /// Result paths the guest must `PUT`.
    public var results: [String]
    /// Result paths the guest may `PUT` (progress, e.g. each finished step of a test).
    public var optionalResults: [String] = []
    /// Directories to serve read-only, e.g. the dist under `/dist`.
    public var mirrors: [MirrorMount]

    public init(task: String, jobID: Int = 1, taskKeys: [String: String] = [:], results: [String] = [], mirrors: [MirrorMount] = []) {
        self.task = task
        self.jobID = jobID
        self.taskKeys = taskKeys
        self.results = results
        self.mirrors = mirrors
    }

    /// The plan as the command hook answers it.
    public var json: JSONValue {
        [
            "task": .string(task), "job_id": .int(Int64(jobID)),
            "task_keys": .object(taskKeys.mapValues { .string($0) }),
            "results": .array(results.map { .string($0) }),
            "optional_results": .array(optionalResults.map { .string($0) }),
            "mirrors": .object(Dictionary(mirrors.map { ($0.prefix, JSONValue.string($0.directory)) }) { first, _ in first }),
        ]
    }

    /// Reads a plan from a command hook's answer; nil when it is not one.
    public init?(json: JSONValue) {
        guard let task = json["task"]?.stringValue else { return nil }
        self.task = task
        jobID = Int(json["job_id"]?.intValue ?? 1)
        taskKeys = (json["task_keys"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        results = json["results"]?.arrayValue?.compactMap(\.stringValue) ?? []
        optionalResults = json["optional_results"]?.arrayValue?.compactMap(\.stringValue) ?? []
        mirrors = (json["mirrors"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.compactMap { prefix, directory in
            directory.stringValue.map { MirrorMount(prefix: prefix, directory: $0) }
        }
    }
}

/// What a verb made of a finished run: lines for a person, a JSON answer for `--json`, and the
/// exit code of the command.
public struct VerbVerdict: Sendable, Equatable {
    public var lines: [String]
    public var exitCode: Int32
    /// What `--json` prints.
    public var details: JSONValue

    public init(lines: [String], exitCode: Int32, details: JSONValue = .null) {
        self.lines = lines
        self.exitCode = exitCode
        self.details = details
    }

    public var json: JSONValue {
        ["lines": .array(lines.map { .string($0) }), "exit_code": .int(Int64(exitCode)), "details": details]
    }

    public init?(json: JSONValue) {
        guard let code = json["exit_code"]?.intValue else { return nil }
        lines = json["lines"]?.arrayValue?.compactMap(\.stringValue) ?? []
        exitCode = Int32(truncatingIfNeeded: code)
        details = json["details"] ?? .null
    }
}

extension VerbStage {
    /// The stage a command hook was called for, from its arguments.
    public init?(arguments: [String: JSONValue]) {
        guard let text = arguments["stage"]?.stringValue, let stage = VerbStage(rawValue: text) else { return nil }
        self = stage
    }
}

/// What a verb's command hook reads from a finished run's report.
public struct VerbReport: Sendable {
    public let report: JSONValue

    public init(_ report: JSONValue) { self.report = report }

    /// The run's outcome (`completed`, `startup-timeout`, …) and its exit code.
    public var outcome: String { report["outcome"]?.stringValue ?? "unknown" }
    public var exitCode: Int32 { Int32(truncatingIfNeeded: report["exit_code"]?.intValue ?? 70) }
    /// The run's last line, e.g. `startup timeout: no ping within 5 s; stopped by SIGTERM after 0.1 s`.
    public var line: String { report["line"]?.stringValue ?? "" }

    /// Seconds (run time) of the first timeline event of this kind, e.g. `guest-launched`.
    public func time(of event: String) -> Double? {
        report["timeline"]?.arrayValue?.first { $0["event"]?.stringValue == event }?["time"]?.doubleValue
    }
}
