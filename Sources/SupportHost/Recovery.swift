import Crypto
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

    /// Re-hashes every result the journal says was stored, and removes temporary files of
    /// uploads that never completed (they were never acknowledged).
    static func checkResults(_ report: JSONValue, _ directory: RunDirectory) -> JSONValue {
        guard case .object(var fields) = report else { return report }
        var checked: [JSONValue] = []
        for result in fields["results"]?.arrayValue ?? [] {
            guard case .object(var item) = result, let file = item["file"]?.stringValue else { continue }
            let url = directory.url.appendingPathComponent(file)
            var digest = sha256(of: url)
            if let expected = item["sha256"]?.stringValue, digest != expected,
                InlineResults.restore(file: file, sha256: expected, in: directory)
            {
                item["restored_from_journal"] = true
                digest = sha256(of: url)
            }
            item["verified"] = .bool(digest != nil && digest == item["sha256"]?.stringValue)
            if digest == nil { item["problem"] = "the file is missing" }
            else if digest != item["sha256"]?.stringValue { item["problem"] = .string("the file's sha256 is now \(digest!)") }
            checked.append(.object(item))
        }
        if fields["results"] != nil { fields["results"] = .array(checked) }
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: directory.results.path)) ?? [])
            .filter { $0.hasPrefix(".partial-") && !$0.hasSuffix(".pieces") }.sorted()
        for name in leftovers { try? FileManager.default.removeItem(at: directory.results.appendingPathComponent(name)) }
        if !leftovers.isEmpty { fields["removed_incomplete_uploads"] = .array(leftovers.map { .string($0) }) }
        return .object(fields)
    }

    private static func sha256(of url: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
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
        var report = try ReportBuilder.rebuild(directory)
        report = checkResults(report, directory)
        try ReportBuilder.write(report, to: directory)
        return Result(
            records: contents.entries.count, droppedBytes: contents.droppedBytes, problem: contents.problem,
            outcome: outcome ?? "", report: report)
    }
}
