import FoundationEssentials
import PluginAPI
import SupportKit

/// The on-disk form of one journal record: `LLLLLLLL CCCCCCCC {json}\n`, where L is the length
/// of the JSON in bytes and C its CRC-32C, both 8 lower-case hex digits. A reader can tell a
/// whole record from a torn or corrupted one without trusting the JSON. See docs/journal.md.
enum JournalFormat {
    static let headerLength = 18  // 8 hex, space, 8 hex, space

    static func encode(_ entry: JournalEntry) -> [UInt8] {
        var record: [UInt8] = []
        frame(JournalJSON.encode(entry), into: &record)
        return record
    }

    /// Appends `json` as one framed record.
    static func frame(_ json: [UInt8], into out: inout [UInt8]) {
        Hex.append8(UInt32(json.count), to: &out)
        out.append(UInt8(ascii: " "))
        Hex.append8(json.withUnsafeBytes { CRC32C.checksum($0) }, to: &out)  // in hardware where the CPU has it
        out.append(UInt8(ascii: " "))
        out += json
        out.append(UInt8(ascii: "\n"))
    }

    /// How far the whole records of a journal reach, and where and why reading stopped early.
    struct Extent {
        /// Whole records read.
        var records: Int
        /// Bytes of whole, valid records from the start of the file.
        var validBytes: Int
        /// Bytes after the last valid record (a torn or corrupt tail).
        var droppedBytes: Int
        /// Why reading stopped before the end, if it did.
        var problem: String?
    }

    /// What reading a journal found: the whole records, and where and why it stopped early.
    struct Contents {
        var entries: [JournalEntry]
        /// Bytes of whole, valid records from the start of the file.
        var validBytes: Int
        /// Bytes after the last valid record (a torn or corrupt tail).
        var droppedBytes: Int
        /// Why reading stopped before the end, if it did.
        var problem: String?
    }

    static func read(_ data: Data) -> Contents {
        var entries: [JournalEntry] = []
        let extent = data.withUnsafeBytes { bytes in scan(bytes) { entries.append($0) } }
        return Contents(entries: entries, validBytes: extent.validBytes, droppedBytes: extent.droppedBytes, problem: extent.problem)
    }

    /// Reads the records of a journal's `bytes` from `offset` on, where the record numbered
    /// `firstSeq` must begin, and hands each whole one to `body` as it goes: a long journal is
    /// never held in memory. Stops at the first record that fails (see docs/journal.md).
    static func scan(
        _ bytes: UnsafeRawBufferPointer, from offset: Int = 0, firstSeq: UInt64 = 1, _ body: (JournalEntry) -> Void
    ) -> Extent {
        var offset = offset
        var records = 0
        var decoder = JournalEntryDecoder()
        while offset < bytes.count {
            let checked = frame(bytes, at: offset).flatMap { frame in
                decode(bytes, frame, at: offset, seq: firstSeq + UInt64(records), with: &decoder).map { ($0, frame.next) }
            }
            switch checked {
            case .success(let (entry, next)):
                body(entry)
                records += 1
                offset = next
            case .failure(let stop):
                return Extent(records: records, validBytes: offset, droppedBytes: bytes.count - offset, problem: stop.problem)
            }
        }
        return Extent(records: records, validBytes: offset, droppedBytes: 0, problem: nil)
    }

    /// Why a record is not whole: it and everything after it are the torn or corrupt tail.
    /// (Plain values: the message is made only for the one record that stops a reader.)
    enum Stop: Error {
        case tornHeader(at: Int)
        case corruptHeader(at: Int)
        case torn(at: Int)
        case checksum(at: Int)
        case unreadable(at: Int)
        case sequence(at: Int, found: UInt64, expected: UInt64)

        var problem: String {
            switch self {
            case .tornHeader(let offset): return "torn record header at byte \(offset)"
            case .corruptHeader(let offset): return "corrupt record header at byte \(offset)"
            case .torn(let offset): return "torn record at byte \(offset)"
            case .checksum(let offset): return "checksum mismatch in record at byte \(offset)"
            case .unreadable(let offset): return "unreadable record at byte \(offset)"
            case .sequence(let offset, let found, let expected):
                return "record at byte \(offset) has sequence \(found), expected \(expected)"
            }
        }
    }

    /// Where a record's JSON lies, its checksum and where the next record begins.
    struct Frame {
        let json: Range<Int>
        let crc: UInt32
        let next: Int
    }

    /// The framing of the record at `offset`: header, length and the newline after the JSON.
    /// Cheap (no checksum, no JSON), so a reader can find every record's place first.
    static func frame(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Result<Frame, Stop> {
        let bytes = bytes.bindMemory(to: UInt8.self)
        guard bytes.count - offset >= headerLength else { return .failure(.tornHeader(at: offset)) }
        guard let length = Hex.parse8(bytes, at: offset), let crc = Hex.parse8(bytes, at: offset + 9),
            bytes[offset + 8] == UInt8(ascii: " "), bytes[offset + 17] == UInt8(ascii: " ")
        else { return .failure(.corruptHeader(at: offset)) }
        let start = offset + headerLength
        let end = start + Int(length)
        guard end < bytes.count else { return .failure(.torn(at: offset)) }
        guard bytes[end] == UInt8(ascii: "\n") else {
            return .failure(.checksum(at: offset))
        }
        return .success(Frame(json: start..<end, crc: crc, next: end + 1))
    }

    /// The entry of a framed record, once its checksum, its JSON and its sequence number `seq`
    /// are right.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, _ frame: Frame, at offset: Int, seq: UInt64, with decoder: inout JournalEntryDecoder
    ) -> Result<JournalEntry, Stop> {
        let json = UnsafeRawBufferPointer(rebasing: bytes[frame.json])
        guard CRC32C.checksum(json) == frame.crc else {
            return .failure(.checksum(at: offset))
        }
        guard let entry = try? decoder.decode(json) else {
            return .failure(.unreadable(at: offset))
        }
        guard entry.seq == seq else {
            return .failure(.sequence(at: offset, found: entry.seq, expected: seq))
        }
        return .success(entry)
    }

}
