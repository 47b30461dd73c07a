import PluginAPI

/// Compact JSON for journal records, written by hand: `JSONEncoder` cost about a fifth of the
/// host's CPU per mirror request (measured with perf under wrk), and every request is a record.
/// Same shape as `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes`; any JSON
/// reader decodes it.
enum JournalJSON {
    static func encode(_ entry: JournalEntry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        start(fields: object(entry.fields), kind: entry.kind, to: &out)
        finish(seq: entry.seq, source: string(entry.source), time: entry.time, wall: Array(entry.wall.utf8), to: &out)
        return out
    }

    /// A record in two parts, so that only the second — the sequence number and the times —
    /// is written while the journal is locked: `{"fields":…,"kind":…` here, then `finish`.
    static func start(fields: [UInt8], kind: String, to out: inout [UInt8]) {
        out += #"{"fields":"#.utf8
        out += fields
        out += #","kind":"#.utf8
        writeString(kind, to: &out)
    }

    /// The rest of a record; `source` is already a JSON string.
    static func finish(seq: UInt64, source: [UInt8], time: Double, wall: [UInt8], to out: inout [UInt8]) {
        out += #","seq":"#.utf8
        writeInteger(Int64(seq), to: &out)
        out += #","source":"#.utf8
        out += source
        out += #","time":"#.utf8
        writeDouble(time, to: &out)
        out += #","wall":""#.utf8
        out += wall
        out += #""}"#.utf8
    }

    static func string(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        writeString(text, to: &out)
        return out
    }

    /// An object with its keys sorted.
    static func object(_ members: [String: JSONValue]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(.object(members), to: &out)
        return out
    }

    static func write(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out += "null".utf8
        case .bool(let flag): out += (flag ? "true" : "false").utf8
        case .int(let number): writeInteger(number, to: &out)
        case .double(let number): writeDouble(number, to: &out)
        case .string(let text): writeString(text, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeInteger(_ number: Int64, to out: inout [UInt8]) {
        if number < 0 {
            out.append(UInt8(ascii: "-"))
        }
        var magnitude = number.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[23 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out += raw[(24 - count)...]
        }
    }

    static func writeDouble(_ number: Double, to out: inout [UInt8]) {
        guard number.isFinite else {
            out += "null".utf8
            return
        }
        var text = number.description  // shortest form that reads back exactly, as JSONEncoder writes
        if text.hasSuffix(".0") { text.removeLast(2) }
        out += text.utf8
    }

    static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0a: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0d: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0c: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x00..<0x20:
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xf)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
