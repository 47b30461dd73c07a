import FoundationEssentials
import PluginAPI
import SupportKit
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

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
        if contents.droppedBytes > 0 { try cutJournal(directory, at: contents.validBytes) }
        return contents
    }

    /// Truncates the journal after its last whole record, durably.
    private static func cutJournal(_ directory: RunDirectory, at validBytes: Int) throws {
        let fd = open(directory.journal.path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(validBytes)) == 0, fsync(fd) == 0 else { throw Errno(rawValue: errno) }
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
        if extent.droppedBytes > 0 { try cutJournal(directory, at: extent.validBytes) }
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
        // Each plug-in checks and repairs its own files, and its sections say what it found.
        var report = replay.report(journal: journalExtent)
        if case .object(var fields) = report {
            fields.merge(replay.recoverFiles()) { _, checked in checked }
            report = .object(fields)
        }
        try ReportBuilder.write(report, to: directory)
        return Result(
            records: extent.records, droppedBytes: extent.droppedBytes, problem: extent.problem,
            outcome: outcome ?? "", report: report)
    }
}
