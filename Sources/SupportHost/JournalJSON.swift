import PluginAPI

/// Compact JSON for journal records, written by hand: `JSONEncoder` cost about a fifth of the
/// host's CPU per mirror request (measured with perf under wrk), and every request is a record.
/// Same shape as `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes`; any JSON
/// reader decodes it.
enum JournalJSON {
    static func encode(_ entry: JournalEntry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        let object: [String: JSONValue] = [
            "fields": .object(entry.fields), "kind": .string(entry.kind), "seq": .int(Int64(entry.seq)),
            "source": .string(entry.source), "time": .double(entry.time), "wall": .string(entry.wall),
        ]
        write(.object(object), to: &out)
        return out
    }

    static func write(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let flag): out += Array((flag ? "true" : "false").utf8)
        case .int(let number): out += Array(String(number).utf8)
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

    private static func writeDouble(_ number: Double, to out: inout [UInt8]) {
        guard number.isFinite else {
            out += Array("null".utf8)
            return
        }
        var text = String(number)  // shortest form that reads back exactly, as JSONEncoder writes
        if text.hasSuffix(".0") { text.removeLast(2) }
        out += Array(text.utf8)
    }

    private static func writeString(_ text: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
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
            case 0x00..<0x20: out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
