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
        var items: [[String: JSONValue]] = []
        var digests: [String?] = []
        var lost: [String: String] = [:]
        for result in fields["results"]?.arrayValue ?? [] {
            guard case .object(let item) = result, let file = item["file"]?.stringValue else { continue }
            let digest = sha256(of: directory.url.appendingPathComponent(file))
            if let expected = item["sha256"]?.stringValue, digest != expected { lost[file] = expected }
            items.append(item)
            digests.append(digest)
        }
        // A small result whose file a machine crash lost or tore is written back from its record.
        let restored = InlineResults.restore(lost, in: directory)
        var checked: [JSONValue] = []
        for (var item, var digest) in zip(items, digests) {
            let file = item["file"]?.stringValue ?? ""
            if restored.contains(file) {
                item["restored_from_journal"] = true
                digest = sha256(of: directory.url.appendingPathComponent(file))
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
        return hexEncoded(hasher.finalize())
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

    /// Reads the journal once: each whole record goes to the report as it is read, and the
    /// few the recovery itself needs are kept aside; a torn tail is cut off, and if the run
    /// has no outcome the host's crash is journaled and those new records replayed too.
    public static func recover(_ directory: RunDirectory) async throws -> Result {
        var replay = ReportReplay(directory: directory)
        var prepared: JournalEntry?
        var launched: JournalEntry?
        var outcome: String?
        var lastTime: Double?
        let extent: JournalFormat.Extent
        do {
            // Unmapped before the tail is cut: a mapping past the end of a file is not to be read.
            let mapped = try MappedJournal(directory.journal)
            extent = JournalFormat.scan(mapped.bytes) { entry in
                replay.add(entry)
                lastTime = entry.time
                if entry.kind == "guest-launched" { launched = entry }
                guard entry.source == "host" else { return }
                if entry.kind == "run-prepared", prepared == nil { prepared = entry }
                if entry.kind == "outcome" { outcome = entry.fields["outcome"]?.stringValue }
            }
        }
        if extent.droppedBytes > 0 {
            let handle = try FileHandle(forWritingTo: directory.journal)
            try handle.truncate(atOffset: UInt64(extent.validBytes))
            try handle.synchronize()
            try handle.close()
        }
        // The report describes the journal as recovery leaves it: the tail is gone.
        var journalExtent = JournalFormat.Extent(records: extent.records, validBytes: extent.validBytes, droppedBytes: 0)
        if outcome == nil {
            let journal = try Journal(
                url: directory.journal, clock: RunClock.continuing(prepared: prepared, lastTime: lastTime),
                existingRecords: UInt64(extent.records))
            journal.append(source: "host", kind: "host-crash-recovered", fields: [
                "dropped_bytes": .int(Int64(extent.droppedBytes)), "problem": extent.problem.map { .string($0) } ?? .null,
                "guest_pid": launched?.fields["pid"] ?? .null,
            ])
            journal.append(source: "host", kind: "outcome", fields: [
                "outcome": .string(Outcome.hostCrashed.rawValue), "exit_code": .int(Int64(Outcome.hostCrashed.exitCode)),
                "line": .string("host crashed: run recovered from its journal (\(extent.records) records)"),
            ])
            try await journal.close()
            outcome = Outcome.hostCrashed.rawValue
            let mapped = try MappedJournal(directory.journal)
            let added = JournalFormat.scan(mapped.bytes, from: extent.validBytes, firstSeq: UInt64(extent.records + 1)) {
                replay.add($0)
            }
            journalExtent = JournalFormat.Extent(
                records: extent.records + added.records, validBytes: added.validBytes, droppedBytes: added.droppedBytes,
                problem: added.problem)
        }
        var report = replay.report(journal: journalExtent)
        report = checkResults(report, directory)
        try ReportBuilder.write(report, to: directory)
        return Result(
            records: extent.records, droppedBytes: extent.droppedBytes, problem: extent.problem,
            outcome: outcome ?? "", report: report)
    }
}
