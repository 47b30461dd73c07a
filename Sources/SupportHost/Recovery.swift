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

    /// Reads the journal and cuts off a torn or corrupt tail, so appends continue after the
    /// last whole record.
    static func readCuttingTornTail(_ directory: RunDirectory) throws -> JournalFormat.Contents {
        let contents = JournalFormat.read(try Data(contentsOf: directory.journal))
        if contents.droppedBytes > 0 {
            let handle = try FileHandle(forWritingTo: directory.journal)
            try handle.truncate(atOffset: UInt64(contents.validBytes))
            try handle.synchronize()
            try handle.close()
        }
        return contents
    }

    public static func recover(_ directory: RunDirectory) async throws -> Result {
        let contents = try readCuttingTornTail(directory)
        var outcome = contents.entries.last { $0.source == "host" && $0.kind == "outcome" }?.fields["outcome"]?.stringValue
        if outcome == nil {
            let journal = try Journal(
                url: directory.journal, clock: RunClock.continuing(contents.entries), existingRecords: UInt64(contents.entries.count))
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
