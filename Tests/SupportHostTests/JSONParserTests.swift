import Foundation
import JSONKit
import PluginAPI
import SupportHost
import Testing

struct JSONParserTests {
    @Test func valuesReadBackAsWritten() throws {
        let value: JSONValue = [
            "null": .null, "yes": true, "no": false, "int": -42, "big": .int(9_007_199_254_740_993), "double": 1.5,
            "exp": .double(2.5e-7), "text": "tab\there \"quoted\" back\\slash /slash é 😀 \u{1}",
            "list": [1, "two", [3.25], [:]], "empty": [],
        ]
        #expect(try JSONValue.decode(value.encoded(pretty: false)) == value)
        #expect(try JSONValue.decode(value.encoded(pretty: true)) == value)
    }

    @Test func decimalsReadAsStrtodReadsThem() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let digits = String(state % 1_000_000_000_000_000)
            let point = Int(state >> 60) % digits.count
            let text = (state & 1 == 0 ? "-" : "") + digits.prefix(point + 1) + "." + digits.dropFirst(point + 1) + "1"
            #expect(try JSONValue.decode(Data(text.utf8)) == .double(Double(text)!), "\(text)")
        }
        #expect(try JSONValue.decode(Data("-0.0".utf8)).doubleValue?.sign == .minus)
        #expect(try JSONValue.decode(Data("123456789012345678".utf8)) == .int(123_456_789_012_345_678))
        #expect(try JSONValue.decode(Data("12345678901234567890".utf8)) == .double(12_345_678_901_234_567_168))
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        let text = #"["\u00e9\ud83d\ude00\n\/", 1e3, -0.5, 10]"#
        #expect(try JSONValue.decode(Data(text.utf8)) == ["é😀\n/", .double(1000), -0.5, 10])
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "tru", "01x", "\"unterminated", "\"\\ud800\"", "\"\\x\"", "[1] 2", "{\"a\" 1}", "-", "1.", "1e",
        "\"\u{1}\"", "01", "-01", "00", "-00", "01.5", "01e2", "[0,01]", "{\"a\":00}",
    ])
    func malformedTextIsRefused(_ text: String) {
        #expect(throws: (any Error).self) { try JSONValue.decode(Data(text.utf8)) }
    }

    /// `field(_:)` finds what `fields[name]` finds: Swift compares strings by canonical
    /// equivalence, so "é" composed and decomposed, or "K" and KELVIN SIGN, are one key there.
    @Test func aFieldIsFoundAsTheDecodedFieldsFindIt() throws {
        var decoder = JournalEntryDecoder()
        for fields in [#"{"\u00e9":1,"e\u0301":2}"#, #"{"K":1,"\u212a":2}"#, #"{"\u212a":1,"K":2}"#, #"{"K":2}"#, #"{"\u212a":2}"#, "{\"caf\u{E9}\":2}"] {
            let record = #"{"seq":1,"time":1,"wall":"w","source":"s","kind":"k","fields":"# + fields + "}"
            let entry = try #require(try Data(record.utf8).withUnsafeBytes { try decoder.decode($0) })
            for name in ["\u{E9}", "e\u{301}", "K", "\u{212A}", "caf\u{E9}", "cafe\u{301}"] {
                #expect(entry.field(name) == entry.fields[name], "\(fields) \(name.unicodeScalars.map { String($0.value, radix: 16) })")
            }
        }
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: (any Error).self) { try JSONValue.decode(Data(deep.utf8)) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect((try? JSONValue.decode(Data(fine.utf8))) != nil)
    }
}
