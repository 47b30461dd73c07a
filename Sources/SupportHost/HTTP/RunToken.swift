import Crypto
import FoundationEssentials
import PluginAPI
import SupportKit

/// The per-run secret that lets only the guest in: carried as a path prefix `/t/TOKEN` in the
/// URL the guest is given, or as `Authorization: Bearer TOKEN`.
///
/// Only its SHA-256 is journaled, so a host that takes a run over can check the guest's token
/// without the secret ever being written down.
struct RunToken: Sendable {
    /// The secret itself; empty for a token known only by its digest (a resumed run).
    let value: String
    let digest: [UInt8]

    init(value: String) {
        self.value = value
        digest = Array(SHA256.hash(data: Data(value.utf8)))
    }

    init?(digestHex: String) {
        guard let bytes = Hex.decode(digestHex), bytes.count == 32 else { return nil }
        value = ""
        digest = bytes
    }

    var digestHex: String { hexEncoded(digest) }

    /// 128 bits from the system's secure random source (getrandom on Linux), as hex.
    static func generate() -> RunToken {
        var generator = SystemRandomNumberGenerator()
        return RunToken(value: hexEncoded((0..<16).map { _ in generator.next() as UInt8 }))
    }

    var pathPrefix: String { "/t/" + value }

    /// Compares without an early exit, so the time taken says nothing about the token: the
    /// bytes themselves when this host made the token (a SHA-256 per request showed in
    /// profiles), the digests when it knows only the digest (a resumed run).
    func matches<S: StringProtocol>(_ candidate: S) -> Bool {
        if !value.isEmpty {
            let expected = value.utf8
            guard candidate.utf8.count == expected.count else { return false }  // the length is no secret
            // Over the bytes in place where both are contiguous (they are, for native strings):
            // the generic walk of two UTF-8 views showed in profiles of small GETs.
            let inPlace = candidate.utf8.withContiguousStorageIfAvailable { theirs in
                expected.withContiguousStorageIfAvailable { mine in
                    var difference: UInt8 = 0
                    for index in 0..<mine.count { difference |= mine[index] ^ theirs[index] }
                    return difference == 0
                }
            }
            if let inPlace = inPlace ?? nil { return inPlace }
            var difference: UInt8 = 0
            for (mine, theirs) in zip(expected, candidate.utf8) { difference |= mine ^ theirs }
            return difference == 0
        }
        let given = Array(SHA256.hash(data: Data(candidate.utf8)))
        var difference: UInt8 = 0
        for index in 0..<digest.count { difference |= digest[index] ^ given[index] }
        return difference == 0
    }

    /// Replaces the token wherever it appears, for anything written down or shown.
    func redact(_ text: String) -> String { value.isEmpty ? text : text.replacingEvery(value, with: "{token}") }
}
