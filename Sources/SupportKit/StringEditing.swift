extension StringProtocol {
    /// Without leading and trailing spaces and tabs (Foundation's `.whitespaces`), without
    /// linking Foundation into the host (issue 18).
    package func trimmingSpaces() -> String {
        trimming { character in character.unicodeScalars.allSatisfy { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator } }
    }

    /// Without leading and trailing white space and line ends (`.whitespacesAndNewlines`).
    package func trimmingWhitespace() -> String { trimming(\.isWhitespace) }

    private func trimming(_ isTrimmed: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !isTrimmed($0) }), let last = lastIndex(where: { !isTrimmed($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension String {
    /// Every occurrence of `target` replaced, matched scalar by scalar as Foundation's
    /// `replacingOccurrences(of:with:)` does (the standard library's `replacing` compares
    /// Characters, so "\n" would not match inside a "\r\n").
    package func replacingEvery(_ target: String, with replacement: String) -> String {
        String(unicodeScalars.replacing(target.unicodeScalars, with: replacement.unicodeScalars))
    }
}
