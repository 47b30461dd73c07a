/// Short ASCII strings a parser made lately, found again by their bytes: a journal repeats the
/// same keys and values (`"status"`, `"GET"`, `"CPANMirror"`) in every record, and handing out
/// a string made before is cheaper than checking the bytes and making it anew.
struct RecentStrings {
    /// Up to `maxCount` bytes packed into two words. JSON strings hold no zero bytes unescaped,
    /// so the packing of a non-empty string is unique without its length.
    struct Key: Equatable {
        static let maxCount = 15

        var low: UInt64 = 0
        var high: UInt64 = 0

        /// Adds the byte at `position` of the string (bytes past `maxCount` are left out).
        mutating func append(_ byte: UInt8, at position: Int) {
            if position < 8 {
                low |= UInt64(byte) << UInt64(position * 8)
            } else if position < Self.maxCount {
                high |= UInt64(byte) << UInt64((position - 8) * 8)
            }
        }
    }

    /// Made at the first use: a parser for one small document never needs them.
    private var slots: [(key: Key, string: String)] = []

    /// The string for `key`, from the cache or made by `make` (and then kept in place of the
    /// string that shared its slot). Call only for non-empty strings of at most `maxCount` bytes.
    mutating func string(_ key: Key, make: () -> String) -> String {
        if slots.isEmpty { slots = Array(repeating: (Key(), ""), count: 64) }
        let slot = Int(truncatingIfNeeded: ((key.low ^ (key.high &* 31)) &* 0x9E37_79B9_7F4A_7C15) >> 58)
        if slots[slot].key == key { return slots[slot].string }
        let made = make()
        slots[slot] = (key, made)
        return made
    }
}
