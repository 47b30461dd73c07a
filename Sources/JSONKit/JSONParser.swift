import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Parses JSON text straight into a `JSONValue`: one pass over the bytes, depth-limited so a
/// hostile document cannot exhaust the stack. `JSONDecoder` has to guess each value's type by
/// trying them in turn (a thrown error per wrong guess), which made reading a long journal
/// many times slower than this.
package struct JSONParser {
    /// Nesting deeper than this is refused.
    static let maxDepth = 256

    package struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let reason: String
        package var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    private var bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    /// Members of the objects being read, innermost last: each object's dictionary is made
    /// once at its `}` with room for all of them, instead of growing (and rehashing) as it fills.
    private var pending: [(key: String, value: JSONValue)] = []
    /// Short strings met lately (keys above all), handed out again instead of made anew.
    private var recent = RecentStrings()
    /// Where the members of the last `fields` object skipped begin.
    private var members: [FieldsText.Member] = []

    package static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { raw in
            try parse(raw.bindMemory(to: UInt8.self))
        }
    }

    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var parser = JSONParser()
        return try parser.parse(bytes)
    }

    package init() { bytes = UnsafeBufferPointer(start: nil, count: 0) }

    /// Parses one document; a parser kept for many documents reuses its buffers.
    package mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        self.bytes = bytes
        index = 0
        pending.removeAll(keepingCapacity: true)
        skipSpace()
        let value = try value(depth: 0)
        skipSpace()
        guard index == bytes.count else { throw failure("text after the value") }
        return value
    }

    /// Parses a journal record straight into its parts, without building its outer object;
    /// nil when the text is JSON but not an entry (the rules of `JournalEntry(json:)`).
    package mutating func parseEntry(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JournalRecord? {
        self.bytes = bytes
        index = 0
        pending.removeAll(keepingCapacity: true)
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
            _ = try parse(bytes)
            return nil
        }
        index += 1
        var seq, time, wall, source, kind: JSONValue?
        var fields: FieldsText?
        var fieldsIsObject = false
        if try !objectEnds() {
            repeat {
                let key = try entryKey()
                if key == .fields, bytes[index] == UInt8(ascii: "{") {
                    // Checked now, decoded only if someone asks for all the fields.
                    let start = index
                    let plainKeys = try skipObjectNotingMembers(depth: 1)
                    fields = FieldsText(UnsafeBufferPointer(rebasing: bytes[start..<index]), members: plainKeys ? members : nil)
                    fieldsIsObject = true
                    continue
                }
                let value = try value(depth: 1)
                switch key {
                case .seq: seq = value
                case .time: time = value
                case .wall: wall = value
                case .source: source = value
                case .kind: kind = value
                case .fields: fieldsIsObject = false
                case .other: break
                }
            } while try nextMember()
        }
        skipSpace()
        guard index == bytes.count else { throw failure("text after the value") }
        guard let seq = seq?.intValue, seq > 0, let time = time?.doubleValue, let wall = wall?.stringValue,
            let source = source?.stringValue, let kind = kind?.stringValue, fieldsIsObject, let fields
        else { return nil }
        return JournalRecord(seq: UInt64(seq), time: time, wall: wall, source: source, kind: kind, fields: fields)
    }

    /// The member of a journal record that a key names.
    private enum EntryKey {
        case seq, time, wall, source, kind, fields, other
    }

    /// A record's key and the `:` after it. The six keys of a record are told by their bytes
    /// (packed into a word), without making a string of each.
    private mutating func entryKey() throws -> EntryKey {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a key") }
        var packed: UInt64 = 0
        var end = index + 1
        while end < bytes.count, end - index <= 7, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"),
            bytes[end] >= 0x20, bytes[end] < 0x80
        {
            packed |= UInt64(bytes[end]) << UInt64((end - index - 1) * 8)
            end += 1
        }
        let key: EntryKey
        if end < bytes.count, bytes[end] == UInt8(ascii: "\""), end - index <= 7 {
            index = end + 1
            switch packed {
            case Self.packedKeys.seq: key = .seq
            case Self.packedKeys.time: key = .time
            case Self.packedKeys.wall: key = .wall
            case Self.packedKeys.source: key = .source
            case Self.packedKeys.kind: key = .kind
            case Self.packedKeys.fields: key = .fields
            default: key = .other
            }
        } else {
            // Longer, escaped or not ASCII: read as any key.
            switch try string() {
            case "seq": key = .seq
            case "time": key = .time
            case "wall": key = .wall
            case "source": key = .source
            case "kind": key = .kind
            case "fields": key = .fields
            default: key = .other
            }
        }
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
        index += 1
        skipSpace()
        guard index < bytes.count else { throw failure("unexpected end") }
        return key
    }

    private static let packedKeys = (
        seq: pack("seq"), time: pack("time"), wall: pack("wall"), source: pack("source"), kind: pack("kind"), fields: pack("fields")
    )

    private static func pack(_ word: StaticString) -> UInt64 {
        var packed: UInt64 = 0
        for offset in 0..<word.utf8CodeUnitCount { packed |= UInt64(word.utf8Start[offset]) << UInt64(offset * 8) }
        return packed
    }

    /// The value of member `name` of the object `bytes` (the last one, if the key repeats),
    /// reading no other value; nil when there is none.
    package static func member(_ name: String, of bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue? {
        var parser = JSONParser()
        parser.bytes = bytes
        parser.skipSpace()
        guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") else { return nil }
        parser.index += 1
        var found: JSONValue?
        var utf8 = name
        let ascii = name.utf8.allSatisfy { $0 < 0x80 }
        try utf8.withUTF8 { utf8 in
            if try parser.objectEnds() { return }
            repeat {
                if try parser.keyIs(name, utf8: utf8, ascii: ascii) {
                    found = try parser.value(depth: 1)
                } else {
                    try parser.skipValue(depth: 1)
                }
            } while try parser.nextMember()
        }
        return found
    }

    /// Whether the next member's key is `name` as Swift compares strings (canonical equivalence,
    /// as the decoded object's dictionary finds keys), leaving the cursor on its value. Bytes are
    /// compared only where both are ASCII: only then are equal strings equal bytes ("\u{212A}",
    /// KELVIN SIGN, is "K"; "é" composed is "e\u{301}").
    private mutating func keyIs(_ name: String, utf8: UnsafeBufferPointer<UInt8>, ascii: Bool) throws -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a key") }
        let start = index + 1
        let end = plainASCIIEnd(from: start)
        let matches: Bool
        if ascii, end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            index = end + 1
            matches = end - start == utf8.count && (utf8.isEmpty || memcmp(bytes.baseAddress! + start, utf8.baseAddress!, utf8.count) == 0)
        } else {
            matches = try string() == name
        }
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
        index += 1
        skipSpace()
        return matches
    }

    /// Where a run of plain ASCII string bytes from `start` ends: at a quote, a backslash, a
    /// control character, a non-ASCII byte or the end of the text.
    private func plainASCIIEnd(from start: Int) -> Int {
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20,
            bytes[end] < 0x80
        {
            end += 1
        }
        return end
    }

    /// `skipValue` for an object, noting in `members` where each member's key and value begin
    /// (from the object's `{`); false when a key is not plain ASCII without escapes (then the
    /// notes cannot be compared with a name byte for byte).
    private mutating func skipObjectNotingMembers(depth: Int) throws -> Bool {
        guard depth < Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth)") }
        let start = index
        members.removeAll(keepingCapacity: true)
        var plainKeys = true
        index += 1
        if try objectEnds() { return true }
        repeat {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a key") }
            let key = index + 1
            let end = plainASCIIEnd(from: key)
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                index = end + 1
            } else {
                plainKeys = false
                _ = try string()
            }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipSpace()
            members.append(FieldsText.Member(key: key - start, keyEnd: end - start, value: index - start))
            try skipValue(depth: depth + 1)
        } while try nextMember()
        return plainKeys
    }

    /// The value that begins at `offset` of `bytes` (text after it is not looked at).
    package static func value(at offset: Int, of bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var parser = JSONParser()
        parser.bytes = bytes
        parser.index = offset
        return try parser.value(depth: 1)
    }

    /// Moves past one value, accepting and refusing exactly what `value(depth:)` does, but
    /// building nothing.
    private mutating func skipValue(depth: Int) throws {
        guard depth < Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth)") }
        guard index < bytes.count else { throw failure("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            if try objectEnds() { return }
            repeat {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a key") }
                try skipString()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
                index += 1
                skipSpace()
                try skipValue(depth: depth + 1)
            } while try nextMember()
        case UInt8(ascii: "["):
            index += 1
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                skipSpace()
                try skipValue(depth: depth + 1)
                skipSpace()
                guard index < bytes.count else { throw failure("unexpected end") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return }
                throw failure("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try number()
        }
    }

    /// Moves past a string of printable ASCII without making it; any other string is read
    /// in full, so that it is checked exactly as `string()` checks it.
    private mutating func skipString() throws {
        let begin = index
        index += 1
        while true {
            skipPlainASCII()
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { break }
            index += 1
        }
        index = begin
        _ = try string()
    }

    private func failure(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws -> JSONValue {
        guard depth < Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth)") }
        guard index < bytes.count else { throw failure("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw failure("unexpected end") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw failure("unknown literal")
        }
        index += count
    }

    private mutating func object(depth: Int) throws -> JSONValue {
        index += 1
        if try objectEnds() { return .object([:]) }
        let first = pending.count
        repeat {
            let key = try memberKey()
            pending.append((key, try value(depth: depth + 1)))
        } while try nextMember()
        var object = [String: JSONValue](minimumCapacity: pending.count - first)
        for member in pending[first...] { object[member.key] = member.value }  // a later duplicate wins
        pending.removeLast(pending.count - first)
        return .object(object)
    }

    /// After an object's `{`: true (and past it) when the `}` follows at once.
    private mutating func objectEnds() throws -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "}") else { return false }
        index += 1
        return true
    }

    /// A member's key and the `:` after it, leaving the cursor on the value.
    private mutating func memberKey() throws -> String {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a key") }
        let key = try string()
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
        index += 1
        skipSpace()
        return key
    }

    /// After a member's value: true past a `,`, false past the object's `}`.
    private mutating func nextMember() throws -> Bool {
        skipSpace()
        guard index < bytes.count else { throw failure("unexpected end") }
        if bytes[index] == UInt8(ascii: ",") { index += 1; return true }
        if bytes[index] == UInt8(ascii: "}") { index += 1; return false }
        throw failure("expected ',' or '}'")
    }

    private mutating func array(depth: Int) throws -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard index < bytes.count else { throw failure("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw failure("expected ',' or ']'")
        }
    }

    private mutating func string() throws -> String {
        index += 1
        let start = index
        var combined: UInt8 = 0
        // The common case: no escapes, so the bytes are the string; if they are all ASCII they
        // are valid UTF-8 too, and the cheaper `String(decoding:)` makes the same string.
        while index < bytes.count {
            skipPlainASCII()
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                guard combined < 0x80 else {
                    guard let text = String(validating: slice, as: UTF8.self) else { throw failure("invalid UTF-8") }
                    return text
                }
                guard slice.count > 0, slice.count <= RecentStrings.Key.maxCount else {
                    return String(decoding: slice, as: UTF8.self)
                }
                var key = RecentStrings.Key()
                for position in 0..<slice.count { key.append(slice[position], at: position) }
                return recent.string(key) { String(decoding: slice, as: UTF8.self) }
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw failure("control character in a string") }
            combined |= byte
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else { throw failure("invalid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw failure("unexpected end") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out += Array(String(try unicodeEscape()).utf8)
                default: throw failure("unknown escape")
                }
            default:
                guard byte >= 0x20 else { throw failure("control character in a string") }
                out.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    /// Moves past whole 8-byte words of printable ASCII without a quote or a backslash: most
    /// of a journal's bytes are in strings like these, and a word at a time is several times
    /// faster than a byte at a time.
    private mutating func skipPlainASCII() {
        guard let base = bytes.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while index + 8 <= bytes.count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let quotes = word ^ (ones &* 0x22)
            let backslashes = word ^ (ones &* 0x5C)
            // A byte is zero (a match), below 0x20, or has its high bit set: then this word is
            // read a byte at a time.
            let special =
                ((quotes &- ones) & ~quotes) | ((backslashes &- ones) & ~backslashes) | ((word &- ones &* 0x20) & ~word) | word
            if special & highs != 0 { return }
            index += 8
        }
    }

    private mutating func unicodeEscape() throws -> Character {
        let high = try hex4()
        if (0xD800..<0xDC00).contains(high) {
            guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("lone surrogate")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low), let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) else {
                throw failure("bad surrogate pair")
            }
            return Character(scalar)
        }
        guard let scalar = Unicode.Scalar(high) else { throw failure("lone surrogate") }
        return Character(scalar)
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("unexpected end") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// 10^exponent for 0...15, exactly (every one is a double).
    private static func powerOfTen(_ exponent: Int) -> Double {
        switch exponent {
        case 0: return 1
        case 1: return 1e1
        case 2: return 1e2
        case 3: return 1e3
        case 4: return 1e4
        case 5: return 1e5
        case 6: return 1e6
        case 7: return 1e7
        case 8: return 1e8
        case 9: return 1e9
        case 10: return 1e10
        case 11: return 1e11
        case 12: return 1e12
        case 13: return 1e13
        case 14: return 1e14
        default: return 1e15
        }
    }

    private mutating func number() throws -> JSONValue {
        let start = index
        var isInteger = true
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let digitsStart = index
        // The digits' value while it is exact (at most 18 digits fit an Int64, 15 a Double).
        var mantissa: Int64 = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            mantissa = mantissa &* 10 &+ Int64(bytes[index] &- UInt8(ascii: "0"))
            index += 1
        }
        let integerDigits = index - digitsStart
        guard integerDigits > 0 else { throw failure("unexpected character") }
        guard integerDigits == 1 || bytes[digitsStart] != UInt8(ascii: "0") else { throw failure("leading zero") }
        var fractionDigits = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let fraction = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                mantissa = mantissa &* 10 &+ Int64(bytes[index] &- UInt8(ascii: "0"))
                index += 1
            }
            fractionDigits = index - fraction
            guard fractionDigits > 0 else { throw failure("digits must follow '.'") }
        }
        let plain = index >= bytes.count || (bytes[index] != UInt8(ascii: "e") && bytes[index] != UInt8(ascii: "E"))
        if plain, isInteger, integerDigits <= 18 { return .int(negative ? -mantissa : mantissa) }
        // Clinger's fast path: a mantissa below 2^53 and a power of ten up to 1e15 are both
        // exact doubles, so one IEEE division rounds exactly as strtod would.
        if plain, integerDigits + fractionDigits <= 15 {
            let value = Double(mantissa) / Self.powerOfTen(fractionDigits)
            return .double(negative ? -value : value)
        }
        if !plain {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let exponent = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > exponent else { throw failure("digits must follow the exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .int(integer) }
        guard let double = Double(text) else { throw failure("bad number") }
        return .double(double)
    }
}

/// A journal record's parts as the parser read them: its `fields` still checked JSON text.
package struct JournalRecord {
    package var seq: UInt64
    package var time: Double
    package var wall: String
    package var source: String
    package var kind: String
    package var fields: FieldsText
}
