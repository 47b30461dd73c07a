import Crypto
import Dispatch
import FoundationEssentials
import SupportKit

/// SHA-256 of a large result on a thread of its own, while the import hook writes the chunks:
/// hashing and the copy into the page cache each took about a third of a large upload's time,
/// one after the other on the hook's thread.
///
/// At most `chunksInFlight` chunks wait to be hashed (the writer blocks on the next), so memory
/// stays bounded whatever the upload's size.
final class BackgroundHasher: @unchecked Sendable {
    // Safe: `hasher` is touched only on `queue`.
    private var hasher: SHA256
    private let queue = DispatchQueue(label: "support-host.result-hash")
    private let room: DispatchSemaphore
    static let chunksInFlight = 16

    /// Goes on from `hasher`, which has hashed the bytes before.
    init(continuing hasher: SHA256) {
        self.hasher = hasher
        room = DispatchSemaphore(value: Self.chunksInFlight)
    }

    func update(_ chunk: Data) {
        room.wait()
        queue.async {
            self.hasher.update(data: chunk)
            self.room.signal()
        }
    }

    /// The digest of every chunk given so far (waits for them).
    var digest: String { queue.sync { hexEncoded(hasher.finalize()) } }
}
