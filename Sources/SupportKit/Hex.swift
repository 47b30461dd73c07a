/// Lower-case hex, the one spelling of it in the host and the built-in plug-ins: digests, the
/// run token, the journal's record headers.
///
/// (`String(format: "%02x")` per byte, through Foundation, cost a tenth of the host's CPU in a
/// profile of small uploads.)
package enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `value` as exactly 8 hex digits (a journal record's length and checksum).
    package static func append8(_ value: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 28, through: 0, by: -4) { out.append(digits[Int((value >> UInt32(shift)) & 0xf)]) }
    }

    /// The value of 8 lower-case hex digits at `offset`; nil if any is not one.
    package static func parse8(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt32? {
        var value: UInt32 = 0
        for index in offset..<(offset + 8) {
            guard let digit = digit(bytes[index]) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The bytes lower- or upper-case hex text spells; nil for an odd length or a non-digit.
    package static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        for index in stride(from: 0, to: utf8.count, by: 2) {
            guard let high = digit(lowered(utf8[index])), let low = digit(lowered(utf8[index + 1])) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func lowered(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) ? byte + 0x20 : byte
    }

    private static func digit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

/// Bytes as lower-case hex, e.g. a SHA-256 digest.
package func hexEncoded<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var text: [UInt8] = []
    text.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
        text.append(Hex.digits[Int(byte >> 4)])
        text.append(Hex.digits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
}
