/// What may go into a response head from a plug-in's `Reply`. A name or value with CR or LF
/// would end the header early and let the rest of it be read as a header, or as a response, of
/// its own (response splitting): such a reply is refused, never sent. The rules are RFC 9110's
/// (§5.1 token names; §5.5 values without CR, LF or NUL), as NIO's header validator applied them.
enum HeaderField {
    static func isValid(name: String, value: String) -> Bool {
        isToken(name) && isValidValue(value)
    }

    static func isToken(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
                UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                continue
            default:
                return false
            }
        }
        return true
    }

    static func isValidValue(_ value: String) -> Bool {
        for byte in value.utf8 where byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") || byte == 0 { return false }
        return true
    }
}
