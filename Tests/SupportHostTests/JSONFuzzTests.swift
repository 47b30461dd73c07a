import Foundation
import JSONKit
import PluginAPI
import SupportHost
import Testing

/// `JSONParser` against Python's strict `json.loads`: `scripts/json-fuzz-corpus` writes ~31,000
/// documents (random values and journal records in every spelling, numbers, escapes, control
/// characters, invalid UTF-8, nesting around the limit, every truncation of some, random byte
/// mutations of many) with Python's verdict on each, from a fixed seed. Every document must be
/// accepted or refused as Python does, accepted ones must read as the same value, and
/// `JournalEntryDecoder` (the journal's fast path, with `field(_:)` and `fields`) must agree with
/// the general parser on each.
///
/// Deliberate differences, checked as such: a lone surrogate (`"\ud800"`) is refused (a Swift
/// string cannot hold one), a value at depth 256 or more is refused, integers that do not fit an
/// Int64 read as doubles, and keys that are different code points but equal Swift strings (`é`
/// composed and decomposed) are one key, the later value winning (counted, not failed).
@Suite(.enabled(if: Needs.python3, "needs python3"))
struct JSONFuzzTests {
    @Test(.timeLimit(.minutes(2))) func parserAgreesWithPythonsJSON() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/json-fuzz-corpus")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let output = Pipe()
        let summary = Pipe()
        process.standardOutput = output
        process.standardError = summary
        try process.run()
        let corpus = output.fileHandleForReading.readDataToEndOfFile()
        let counts = String(decoding: summary.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(counts)")

        var tally = Tally()
        var decoder = JournalEntryDecoder()
        for line in corpus.split(separator: UInt8(ascii: "\n")) {
            let parts = line.split(separator: UInt8(ascii: "\t"), maxSplits: 2, omittingEmptySubsequences: false)
            try #require(parts.count == 3)
            let verdict = Character(UnicodeScalar(parts[0].first!))
            let document = try #require(Data(base64Encoded: Data(parts[1])))
            tally.documents += 1

            let parsed = Result { try JSONValue.decode(document) }
            switch (verdict, parsed) {
            case ("A", .success(let value)):
                var reader = TokenReader(text: Array(parts[2]))
                let expected = try reader.value()
                if let difference = Self.difference(value, expected, merged: &tally.mergedKeys) {
                    tally.fail("read differently from Python (\(difference))", document)
                }
                tally.accepted += 1
            case ("A", .failure(let error)): tally.fail("refused, Python accepts: \(error)", document)
            case ("R", .success): tally.fail("accepted, Python refuses", document)
            case ("S", .success): tally.fail("accepted a lone surrogate", document)
            case ("D", .success): tally.fail("accepted nesting past the limit", document)
            case (_, .failure): tally.refused += 1
            default: tally.fail("unknown verdict \(verdict)", document)
            }

            // The journal's fast path: the same verdict, the same entry, the same fields.
            let fast = Result { try document.withUnsafeBytes { try decoder.decode($0) } }
            switch (parsed, fast) {
            case (.failure, .failure): break
            case (.failure, .success): tally.fail("parseEntry accepts what the parser refuses", document)
            case (.success, .failure(let error)): tally.fail("parseEntry refuses what the parser accepts: \(error)", document)
            case (.success(let value), .success(let entry)):
                let general = JournalEntry(json: value)
                guard let entry, let general else {
                    if (entry == nil) != (general == nil) { tally.fail("parseEntry: entry \(entry != nil), general \(general != nil)", document) }
                    break
                }
                tally.entries += 1
                var names = Set(general.fields.keys)
                names.formUnion(Self.probes)
                for name in names.sorted() where entry.field(name) != general.fields[name] {
                    tally.fail("field(\(name.debugDescription)) is \(String(describing: entry.field(name))), fields has \(String(describing: general.fields[name]))", document)
                }
                if entry != general { tally.fail("parseEntry's entry differs", document) }
            }
        }
        Fixtures.note("JSONFuzzTests: \(tally.documents) documents, \(tally.accepted) accepted, \(tally.refused) refused, \(tally.entries) journal entries, \(tally.mergedKeys) keys merged as equal Swift strings, \(tally.failures) disagreements\n\(counts)")
        #expect(tally.documents > 25000)
        #expect(tally.accepted > 10000 && tally.refused > 10000 && tally.entries > 2000)
        #expect(tally.failures == 0, "\(tally.failures) disagreements, first: \(tally.examples.joined(separator: "\n"))")
    }

    /// Names asked of every entry besides its own keys: absent ones, and ones equal as Swift
    /// strings to a key the corpus writes in another form.
    static let probes = ["", "a", "seq", "missing", "K", "\u{212A}", "\u{E9}", "e\u{301}", "\u{C5}", "\u{212B}", "A\u{30A}", "caf\u{E9}", "cafe\u{301}"]

    struct Tally {
        var documents = 0, accepted = 0, refused = 0, entries = 0, mergedKeys = 0, failures = 0
        var examples: [String] = []

        mutating func fail(_ what: String, _ document: Data) {
            failures += 1
            guard examples.count < 15 else { return }
            let shown = String(decoding: document.prefix(160), as: UTF8.self).debugDescription
            examples.append("\(what): \(shown)\(document.count > 160 ? "… (\(document.count) bytes)" : "")")
        }
    }

    indirect enum Expected {
        case null, bool(Bool), int(String), double(Double), string([UInt8]), array([Expected]), object([([UInt8], Expected)])
    }

    /// Reads the script's tokens: n t f i<decimal> d<repr> s<hex> a<count> o<count>.
    struct TokenReader {
        var text: [UInt8]
        var index = 0

        struct Malformed: Error {}

        mutating func token() throws -> (UInt8, String) {
            guard index < text.count else { throw Malformed() }
            let start = index
            while index < text.count, text[index] != UInt8(ascii: " ") { index += 1 }
            let token = text[start..<index]
            index += 1
            return (token.first!, String(decoding: token.dropFirst(), as: UTF8.self))
        }

        mutating func value() throws -> Expected {
            let (tag, rest) = try token()
            switch tag {
            case UInt8(ascii: "n"): return .null
            case UInt8(ascii: "t"): return .bool(true)
            case UInt8(ascii: "f"): return .bool(false)
            case UInt8(ascii: "i"): return .int(rest)
            case UInt8(ascii: "d"): return .double(try Double(rest).unwrap())
            case UInt8(ascii: "s"): return .string(try Self.hex(rest))
            case UInt8(ascii: "a"): return .array(try (0..<Int(rest).unwrap()).map { _ in try value() })
            case UInt8(ascii: "o"):
                return .object(
                    try (0..<Int(rest).unwrap()).map { _ in
                        guard case .string(let key) = try value() else { throw Malformed() }
                        return (key, try value())
                    })
            default: throw Malformed()
            }
        }

        static func hex(_ text: String) throws -> [UInt8] {
            let digits = Array(text.utf8)
            return try stride(from: 0, to: digits.count, by: 2).map { try UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16).unwrap() }
        }
    }

    /// Nil when `value` is what Python read; else where they differ.
    static func difference(_ value: JSONValue, _ expected: Expected, merged: inout Int) -> String? {
        switch (value, expected) {
        case (.null, .null): return nil
        case (.bool(let a), .bool(let b)): return a == b ? nil : "\(a) vs \(b)"
        case (.int(let a), .int(let b)): return String(a) == b ? nil : "\(a) vs \(b)"
        // Integers past Int64 read as doubles, rounded as strtod rounds them.
        case (.double(let a), .int(let b)):
            return Int64(b) == nil && a.bitPattern == Double(b)?.bitPattern ? nil : "double \(a) vs integer \(b)"
        case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern ? nil : "\(a) vs \(b)"
        case (.string(let a), .string(let b)): return Array(a.utf8) == b ? nil : "\(a.debugDescription) vs \(b)"
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return "\(a.count) items vs \(b.count)" }
            for (x, y) in zip(a, b) { if let difference = difference(x, y, merged: &merged) { return difference } }
            return nil
        case (.object(let a), .object(let b)):
            // Built as the parser builds it: a later equal key replaces the value, not the key.
            var members: [String: (key: [UInt8], value: Expected)] = [:]
            for (key, item) in b {
                let name = String(decoding: key, as: UTF8.self)
                if let earlier = members[name] {
                    if earlier.key != key { merged += 1 }
                    members[name] = (earlier.key, item)
                } else {
                    members[name] = (key, item)
                }
            }
            guard a.count == members.count else { return "\(a.count) members vs \(members.count)" }
            for (key, item) in a {
                guard let member = members[key], member.key == Array(key.utf8) else { return "key \(key.debugDescription)" }
                if let difference = difference(item, member.value, merged: &merged) { return "\(key.debugDescription): \(difference)" }
            }
            return nil
        default: return "\(value) vs \(expected)"
        }
    }
}

extension Optional {
    fileprivate func unwrap() throws -> Wrapped {
        guard let self else { throw JSONFuzzTests.TokenReader.Malformed() }
        return self
    }
}
