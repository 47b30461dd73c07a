/// One `--fail-on` or `--reboot-pattern` pattern, compiled once and matched against each console
/// line.
///
/// Swift's `Regex` (the host does not link Foundation's NSRegularExpression: issue 18) costs
/// about 5 µs a line per pattern, 8× NSRegularExpression; a pattern that is plain text (all of
/// `--fail-on-panic`'s, most operators') is found by comparing bytes instead, about 0.04 µs.
struct ConsolePattern {
    private enum Matcher {
        case text([UInt8])
        case regex(Regex<AnyRegexOutput>)
    }

    let source: String
    private let matcher: Matcher

    /// nil when `source` is not a valid regular expression.
    init?(_ source: String) {
        // Scalar semantics like ICU's (`.` is one code point, not one grapheme).
        guard let regex = (try? Regex(source))?.matchingSemantics(.unicodeScalar) else { return nil }
        self.source = source
        if let text = Self.plainText(source), !text.isEmpty {
            matcher = .text(Array(text.utf8))
        } else {
            matcher = .regex(regex)
        }
    }

    func matches(_ line: String) -> Bool {
        switch matcher {
        case .regex(let regex): return line.contains(regex)
        case .text(let needle):
            var line = line
            return line.withUTF8 { Self.contains($0, needle) }
        }
    }

    /// The text a pattern matches when it has no operator: letters, digits, spaces and other
    /// characters as they are, and the regex metacharacters only escaped (`\.`, `\(`). nil
    /// for anything else (`\d`, `a.c`, `^x`).
    static func plainText(_ pattern: String) -> String? {
        var text = ""
        var escaped = false
        for character in pattern {
            if escaped {
                guard character.isASCII, !character.isLetter, !character.isNumber else { return nil }
                text.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if "^$.|?*+()[]{}".contains(character) {
                return nil
            } else {
                text.append(character)
            }
        }
        return escaped ? nil : text
    }

    private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return needle.isEmpty }
        var start = 0
        while start + needle.count <= haystack.count {
            if haystack[start] == first {
                var offset = 1
                while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
            }
            start += 1
        }
        return false
    }
}
