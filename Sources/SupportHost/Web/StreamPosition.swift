/// How far a page or an event stream has shown a run: the journal up to `journalOffset` (the
/// next record is number `nextSeq`) and the console up to `consoleOffset`. It is the SSE event
/// id, so a reconnecting client (`Last-Event-ID`) resumes where it stopped.
struct StreamPosition: Equatable, Sendable {
    var journalOffset: Int
    var nextSeq: UInt64
    var consoleOffset: Int

    static let start = StreamPosition(journalOffset: 0, nextSeq: 1, consoleOffset: 0)

    /// `J-S-C`, e.g. `3903-15-293`.
    var text: String { "\(journalOffset)-\(nextSeq)-\(consoleOffset)" }

    /// Reads `J-S-C`; anything else is nil (the stream then starts over).
    init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 18 && $0.allSatisfy(\.isASCII) }),
            let journal = Int(parts[0]), let seq = UInt64(parts[1]), let console = Int(parts[2]),
            journal >= 0, seq >= 1, console >= 0
        else { return nil }
        self.init(journalOffset: journal, nextSeq: seq, consoleOffset: console)
    }

    init(journalOffset: Int, nextSeq: UInt64, consoleOffset: Int) {
        (self.journalOffset, self.nextSeq, self.consoleOffset) = (journalOffset, nextSeq, consoleOffset)
    }
}
