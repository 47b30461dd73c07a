import FoundationEssentials
import PluginAPI

/// One run as its page shows it: the report (from `report.json`, or rebuilt from the journal
/// while the run is live), the last part of the console, and how far both were read, so the
/// page's event stream starts exactly after them.
struct RunView {
    let id: String
    let directory: RunDirectory
    let report: JSONValue
    let console: [String]
    let position: StreamPosition

    /// No outcome yet: the page follows the run.
    var isLive: Bool { report["outcome"]?.stringValue == nil }

    static func read(id: String, url: URL) throws -> RunView {
        let directory = RunDirectory(url: url)
        // The console is read before the journal: a line printed in between is then sent by
        // the stream rather than lost.
        let (console, consoleEnd) = ConsoleReader.tail(directory.console)
        if let data = try? Data(contentsOf: directory.report), let report = try? JSONValue.decode(data) {
            return RunView(id: id, directory: directory, report: report, console: console,
                           position: StreamPosition(journalOffset: 0, nextSeq: 1, consoleOffset: consoleEnd))
        }
        let journal = try MappedJournal(directory.journal)
        var replay = ReportReplay(directory: directory)
        let extent = JournalFormat.scan(journal.bytes) { replay.add($0) }
        let report = replay.report(journal: extent)
        return RunView(id: id, directory: directory, report: report, console: console,
                       position: StreamPosition(journalOffset: extent.validBytes, nextSeq: UInt64(extent.records) + 1, consoleOffset: consoleEnd))
    }
}
