import FoundationEssentials
import PluginAPI

/// Builds `report.json` from the journal alone, never from a run's memory: the journal is read
/// once, in place, and each record replayed as it is read (`ReportReplay`).
public enum ReportBuilder {
    /// Reads the journal of `directory` and builds its report; a torn tail is left out.
    public static func rebuild(_ directory: RunDirectory) throws -> JSONValue {
        let journal = try MappedJournal(directory.journal)
        var replay = ReportReplay(directory: directory)
        let extent = JournalFormat.scan(journal.bytes) { replay.add($0) }
        return replay.report(journal: extent)
    }

    static func write(_ report: JSONValue, to directory: RunDirectory) throws {
        try report.encoded(pretty: true).write(to: directory.report, options: .atomic)
    }
}
