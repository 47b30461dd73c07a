import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The `fields` of a journal record as its JSON text, already checked by the parser: decoded
/// into a dictionary only when someone asks for all of them, and then once. One field is found
/// by name through notes of where each member begins, without reading the others.
package final class FieldsText: Sendable {
    /// Where one member's key (without its quotes) and value begin, from the object's `{`.
    package struct Member {
        var key: Int
        var keyEnd: Int
        var value: Int
    }

    private let text: [UInt8]
    /// Nil when a key is escaped or not ASCII: then `field(_:)` reads the whole text.
    private let members: [Member]?
    private let cache = Mutex<[String: JSONValue]?>(nil)

    /// `text` must be one JSON object that `JSONParser` accepted; `members` its members' places.
    package init(_ text: UnsafeBufferPointer<UInt8>, members: [Member]?) {
        self.text = Array(text)
        self.members = members
    }

    package var decoded: [String: JSONValue] {
        cache.withLock { cache in
            if let cache { return cache }
            // The text was checked when the record was read, so this cannot fail.
            let fields = text.withUnsafeBufferPointer { (try? JSONParser.parse($0))?.objectValue } ?? [:]
            cache = fields
            return fields
        }
    }

    package func field(_ name: String) -> JSONValue? {
        var name = name
        return text.withUnsafeBufferPointer { text in
            // The notes compare bytes, which finds what the dictionary finds only for an ASCII
            // name ("\u{212A}", KELVIN SIGN, is the key "K" there).
            guard let members, name.utf8.allSatisfy({ $0 < 0x80 }) else { return (try? JSONParser.member(name, of: text)) ?? nil }
            return name.withUTF8 { name in
                // The last of repeated keys wins, as in the decoded dictionary.
                var found: Int?
                for member in members where member.keyEnd - member.key == name.count {
                    if name.isEmpty || memcmp(text.baseAddress! + member.key, name.baseAddress!, name.count) == 0 {
                        found = member.value
                    }
                }
                return found.flatMap { try? JSONParser.value(at: $0, of: text) }
            }
        }
    }
}
