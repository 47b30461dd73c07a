import Foundation
import PluginAPI

/// `support-host recover RUN_DIR`: after a host crash, cuts a torn journal tail, records that
/// the host crashed (if the run had no outcome), and rebuilds the report from the journal.
public enum Recovery {
    public struct Result: Sendable {
        public let records: Int
        public let droppedBytes: Int
        public let problem: String?
        public let outcome: String
        public let report: JSONValue
    }

    public static func recover(_ directory: RunDirectory) async throws -> Result {
        let data = try Data(contentsOf: directory.journal)
        let contents = JournalFormat.read(data)
        if contents.droppedBytes > 0 {
            let handle = try FileHandle(forWritingTo: directory.journal)
            try handle.truncate(atOffset: UInt64(contents.validBytes))
            try handle.synchronize()
            try handle.close()
        }
        var outcome = contents.entries.last { $0.source == "host" && $0.kind == "outcome" }?.fields["outcome"]?.stringValue
        if outcome == nil {
            let lastTime = contents.entries.last?.time ?? 0
            let journal = try Journal(url: directory.journal, clock: RunClock(offset: lastTime), existingRecords: UInt64(contents.entries.count))
            let launched = contents.entries.last { $0.kind == "guest-launched" }?.fields["pid"]
            journal.append(source: "host", kind: "host-crash-recovered", fields: [
                "dropped_bytes": .int(Int64(contents.droppedBytes)), "problem": contents.problem.map { .string($0) } ?? .null,
                "guest_pid": launched ?? .null,
            ])
            journal.append(source: "host", kind: "outcome", fields: [
                "outcome": .string(Outcome.hostCrashed.rawValue), "exit_code": .int(Int64(Outcome.hostCrashed.exitCode)),
                "line": .string("host crashed: run recovered from its journal (\(contents.entries.count) records)"),
            ])
            try await journal.close()
            outcome = Outcome.hostCrashed.rawValue
        }
        let report = try ReportBuilder.rebuild(directory)
        try ReportBuilder.write(report, to: directory)
        return Result(
            records: contents.entries.count, droppedBytes: contents.droppedBytes, problem: contents.problem,
            outcome: outcome ?? "", report: report)
    }
}
