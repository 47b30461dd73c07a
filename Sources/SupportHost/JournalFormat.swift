import Foundation
import PluginAPI

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
        appendHex8(UInt32(json.count), to: &out)
        out.append(UInt8(ascii: " "))
        appendHex8(CRC32C.checksum(json), to: &out)
        out.append(UInt8(ascii: " "))
        out += json
        out.append(UInt8(ascii: "\n"))
    }

    private static func appendHex8(_ value: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 28, through: 0, by: -4) {
            let digit = UInt8((value >> UInt32(shift)) & 0xf)
            out.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        }
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
        var offset = 0
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Contents in
            let bytes = raw.bindMemory(to: UInt8.self)
            func stop(_ problem: String) -> Contents {
                Contents(entries: entries, validBytes: offset, droppedBytes: bytes.count - offset, problem: problem)
            }
            while offset < bytes.count {
                guard bytes.count - offset >= headerLength else { return stop("torn record header at byte \(offset)") }
                guard let length = parseHex(bytes, offset), let crc = parseHex(bytes, offset + 9),
                    bytes[offset + 8] == UInt8(ascii: " "), bytes[offset + 17] == UInt8(ascii: " ")
                else { return stop("corrupt record header at byte \(offset)") }
                let start = offset + headerLength
                let end = start + Int(length)
                guard end < bytes.count else { return stop("torn record at byte \(offset)") }
                let json = UnsafeBufferPointer(rebasing: bytes[start..<end])
                guard bytes[end] == UInt8(ascii: "\n"), CRC32C.checksum(json) == crc else {
                    return stop("checksum mismatch in record at byte \(offset)")
                }
                guard let entry = (try? JSONValue.decode(Data(json))).flatMap(JournalEntry.init(json:)) else {
                    return stop("unreadable record at byte \(offset)")
                }
                guard entry.seq == UInt64(entries.count + 1) else {
                    return stop("record at byte \(offset) has sequence \(entry.seq), expected \(entries.count + 1)")
                }
                entries.append(entry)
                offset = end + 1
            }
            return Contents(entries: entries, validBytes: offset, droppedBytes: 0, problem: nil)
        }
    }

    private static func parseHex(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32? {
        var value: UInt32 = 0
        for index in at..<(at + 8) {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
