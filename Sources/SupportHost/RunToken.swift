/// The per-run secret that lets only the guest in: carried as a path prefix `/t/TOKEN` in the
/// URL the guest is given, or as `Authorization: Bearer TOKEN`.
struct RunToken: Sendable {
    let value: String

    /// 128 bits from the system's secure random source (getrandom on Linux), as hex.
    static func generate() -> RunToken {
        var generator = SystemRandomNumberGenerator()
        let words = (0..<2).map { _ in generator.next() as UInt64 }
        return RunToken(value: words.map { word in
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined())
    }

    var pathPrefix: String { "/t/" + value }

    /// Compares without an early exit, so the time taken says nothing about the token.
    func matches<S: StringProtocol>(_ candidate: S) -> Bool {
        let expected = Array(value.utf8)
        let given = Array(candidate.utf8)
        var difference = UInt8(truncatingIfNeeded: expected.count ^ given.count)
        for index in 0..<expected.count {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    /// What a request shows of its credentials: the path without the token, or a refusal.
    enum Check {
        case allowed(path: String)
        case refused(recordedPath: String)
    }

    func check(path: String, authorization: String?) -> Check {
        if path.hasPrefix("/t/") {
            let rest = path.dropFirst(3)
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            let remainder = String(rest[end...])
            guard matches(rest[..<end]) else { return .refused(recordedPath: "/t/…" + remainder) }
            return .allowed(path: remainder.isEmpty ? "/" : remainder)
        }
        if let authorization, authorization.hasPrefix("Bearer "), matches(authorization.dropFirst(7)) {
            return .allowed(path: path)
        }
        return .refused(recordedPath: path)
    }

    /// Replaces the token wherever it appears, for anything written down or shown.
    func redact(_ text: String) -> String { text.replacingOccurrences(of: value, with: "{token}") }
}
