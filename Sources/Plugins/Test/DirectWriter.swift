import CSupport
import Dispatch
import FoundationEssentials
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// Writes a large result into its file past the page cache (`O_DIRECT`), in aligned blocks, on a
/// thread of its own. Copying a large upload into the page cache was about a third of the host's
/// CPU for it (issue 18), and the fsync before its answer then wrote the whole file again; with
/// `O_DIRECT` the caller only copies into an aligned buffer, the disk reads that buffer itself
/// while the next one fills, and the fsync is left with the tail and the metadata.
///
/// A file system without `O_DIRECT` (`fcntl` refuses it) gets the same blocks through the page
/// cache, each range's writeback started at once. At most `buffersInFlight` blocks wait for the
/// disk, so memory stays bounded whatever the result's size; past that the upload is suspended
/// (not its thread: Swift's pool has as many as there are cores, and a slow disk must not hold
/// them) until a block is written, and reading from its connection stops meanwhile.
final class DirectWriter: @unchecked Sendable {
    // Safe: `current`, `filled`, `offset` and `direct` belong to the caller (one call at a
    // time, as `ResultWriter` is used); the fields after `lock` are under it; the file and the
    // blocks in flight are the queue's until a drain returns.
    static let blockSize = 1 << 20
    /// Alignment of the buffers, offsets and lengths of `O_DIRECT` writes: 4 KiB covers the
    /// logical block size of the disks Linux runs on.
    static let alignment = 4096

    let fd: Int32
    let buffersInFlight: Int
    private let queue = DispatchQueue(label: "support-host.result-write")
    private let lock = ThreadLock()
    private var spare: [UnsafeMutableRawPointer] = []
    private var allocated: [UnsafeMutableRawPointer] = []
    private var failure: Int32 = 0
    private var inFlight = 0
    private var waitingForRoom: CheckedContinuation<Void, Never>?
    private var roomWaits = 0
    private var current: UnsafeMutableRawPointer?
    private var filled = 0
    private var offset: Int64 = 0
    /// nil until the first full block: a result smaller than one block is written once, through
    /// the page cache, like any small file.
    private var direct: Bool?

    /// Writes into `fd`, an empty file opened for writing; the caller closes it after `finish`
    /// or a drain. `pastPageCache` false: through the page cache, as where `O_DIRECT` is refused.
    init(fd: Int32, pastPageCache: Bool = true, buffersInFlight: Int = 4) {
        self.fd = fd
        self.buffersInFlight = max(1, buffersInFlight)
        if !pastPageCache { direct = false }
    }

    /// Whether the blocks went past the page cache (nil: no full block yet).
    var isDirect: Bool? { direct }

    /// How often an upload waited for a block to be written (for tests).
    var waitsForRoom: Int { lock.withLock { roomWaits } }

    deinit {
        for buffer in allocated { free(buffer) }
    }

    /// Copies `chunk` into the current block, handing every full block to the writing thread.
    func write(_ chunk: Data) async throws(POSIXFailure) {
        var copied = 0
        while copied < chunk.count {
            let block = try buffer()
            let count = min(Self.blockSize - filled, chunk.count - copied)
            chunk.withUnsafeBytes { raw in (block + filled).copyMemory(from: raw.baseAddress! + copied, byteCount: count) }
            filled += count
            copied += count
            if filled == Self.blockSize { try await submit() }
        }
    }

    /// Waits for every block, then writes the last, partial one; afterwards the file holds every
    /// byte given (durable once the caller fsyncs it), and the blocks' memory is given back.
    func finish() throws(POSIXFailure) {
        drain()
        defer { releaseBlocks() }
        try checkFailure()
        guard let block = current, filled > 0 else { return }
        var start = 0
        if direct == true {
            // The aligned part goes past the page cache like the rest; the tail cannot.
            let aligned = filled & ~(Self.alignment - 1)
            if aligned > 0 { try writeBlock(block, count: aligned, at: offset, direct: true) }
            guard csupport_set_direct_io(fd, 0) == 0 else { throw POSIXFailure("fcntl", errno) }
            start = aligned
        }
        try writeAll(block + start, count: filled - start, at: offset + Int64(start))
        offset += Int64(filled)
        filled = 0
    }

    /// Waits until no block is being written: after this, the caller may close or unlink the
    /// file. Blocks the calling thread: for `finish`, which runs off Swift's pool.
    func drain() { queue.sync {} }

    /// `drain` for async code: suspends instead of holding the thread.
    func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { continuation.resume() }
        }
    }

    /// For tests: holds the writing thread back (blocks queue up), and lets it go again.
    func holdWrites() { queue.suspend() }
    func releaseWrites() { queue.resume() }

    private func buffer() throws(POSIXFailure) -> UnsafeMutableRawPointer {
        if let current { return current }
        let reused = lock.withLock { spare.popLast() }
        if let reused {
            current = reused
            return reused
        }
        var memory: UnsafeMutableRawPointer?
        let code = posix_memalign(&memory, Self.alignment, Self.blockSize)
        guard code == 0, let memory else { throw POSIXFailure("posix_memalign", code) }
        lock.withLock { allocated.append(memory) }
        current = memory
        return memory
    }

    private func releaseBlocks() {
        current = nil
        let blocks = lock.withLock {
            defer { allocated = []; spare = [] }
            return allocated
        }
        for block in blocks { free(block) }
    }

    private func submit() async throws(POSIXFailure) {
        if direct == nil {
            direct = csupport_set_direct_io(fd, 1) == 0
        }
        nonisolated(unsafe) let block = current!  // the queue's until it goes back to `spare`
        let (at, direct) = (offset, direct!)
        current = nil
        filled = 0
        offset += Int64(Self.blockSize)
        await waitForRoom()
        queue.async {
            do throws(POSIXFailure) {
                try self.writeBlock(block, count: Self.blockSize, at: at, direct: direct)
                // Through the page cache: start this block's writeback now, not at the fsync.
                if !direct { _ = csupport_start_writeback(self.fd, at, Int64(Self.blockSize)) }
            } catch {
                self.lock.withLock { if self.failure == 0 { self.failure = error.code } }
            }
            let waiting = self.lock.withLock {
                self.spare.append(block)
                defer { self.waitingForRoom = nil }
                if self.waitingForRoom == nil { self.inFlight -= 1 }  // else its place goes to the waiter
                return self.waitingForRoom
            }
            waiting?.resume()
        }
        try checkFailure()
    }

    /// Returns once fewer than `buffersInFlight` blocks are on their way, holding a place.
    private func waitForRoom() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let taken = lock.withLock {
                guard inFlight < buffersInFlight else {
                    waitingForRoom = continuation
                    roomWaits += 1
                    return false
                }
                inFlight += 1
                return true
            }
            if taken { continuation.resume() }
        }
    }

    private func checkFailure() throws(POSIXFailure) {
        let code = lock.withLock { failure }
        if code != 0 { throw POSIXFailure("write", code) }
    }

    /// One aligned block. Past the page cache, a file system may still refuse it (`EINVAL`:
    /// an alignment above 4 KiB) or take part of it: then `O_DIRECT` goes off for the file and
    /// the rest goes through the page cache, so the upload is stored either way.
    private func writeBlock(_ bytes: UnsafeMutableRawPointer, count: Int, at start: Int64, direct: Bool) throws(POSIXFailure) {
        guard direct else { return try writeAll(bytes, count: count, at: start) }
        var written = pwrite(fd, bytes, count, off_t(start))
        while written < 0 && errno == EINTR { written = pwrite(fd, bytes, count, off_t(start)) }
        if written == count { return }
        guard written > 0 || errno == EINVAL else { throw POSIXFailure("write", errno) }
        guard csupport_set_direct_io(fd, 0) == 0 else { throw POSIXFailure("fcntl", errno) }
        let done = max(0, written)
        try writeAll(bytes + done, count: count - done, at: start + Int64(done))
    }

    private func writeAll(_ bytes: UnsafeMutableRawPointer, count: Int, at start: Int64) throws(POSIXFailure) {
        var done = 0
        while done < count {
            let written = pwrite(fd, bytes + done, count - done, off_t(start) + off_t(done))
            if written < 0 {
                if errno == EINTR { continue }
                throw POSIXFailure("write", errno)
            }
            if written == 0 { throw POSIXFailure("write", EIO) }  // never expected; no endless loop
            done += written
        }
    }
}
