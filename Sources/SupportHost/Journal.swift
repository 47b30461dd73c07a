import CSupport
import FoundationEssentials
import SupportKit
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// The run's append-only journal, `RUN_DIR/journal.log`.
///
/// Appends are buffered in memory in sequence order. One flusher thread writes the buffer out
/// within a second of the first record it holds (and sleeps while there is none), and at once
/// when a writer waits for durability; then it issues a single `fsync` for every record written
/// so far, so concurrent uploads share one (group commit).
/// Nothing here runs on an event loop.
final class Journal: @unchecked Sendable {
    // Safe: all mutable state below is guarded by `condition`'s lock.
    private let condition = ThreadCondition()
    private var nextSeq: UInt64
    private var buffer: [UInt8] = []
    private var bufferedUpTo: UInt64 = 0
    private var syncedUpTo: UInt64
    private var waiters: [(seq: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var closing = false
    private var failure: JournalError?
    private var flusherDone = false
    private var syncs = 0
    private var durableRecords = 0
    private var wallClock = WallClockText()

    private let fd: Int32
    let url: URL
    let clock: RunClock
    /// Off only to measure what group commit gains: then every durable record pays its own fsync.
    let groupCommit: Bool

    /// Opens (creating, or appending after `existingRecords` valid records) the journal at `url`.
    init(url: URL, clock: RunClock, existingRecords: UInt64 = 0, groupCommit: Bool = true) throws {
        self.url = url
        self.clock = clock
        self.groupCommit = groupCommit
        fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError.cannotOpen(url.path, String(cString: strerror(errno))) }
        nextSeq = existingRecords + 1
        syncedUpTo = existingRecords
        startThread(name: "journal-flusher") { [self] in flushLoop() }
    }

    /// Appends a record; it reaches the file within about a second.
    @discardableResult
    func append(source: String, kind: String, fields: [String: JSONValue]) -> UInt64 {
        append(source: source, kind: kind, encodedFields: JournalJSON.object(fields))
    }

    /// Appends a record whose fields are already a JSON object (keys sorted).
    ///
    /// Everything but the sequence number and the times is encoded before taking the lock:
    /// every event loop appends a record per request, and they would otherwise wait for each
    /// other's encoding.
    @discardableResult
    func append(source: String, kind: String, encodedFields: [UInt8]) -> UInt64 {
        var json: [UInt8] = []
        json.reserveCapacity(encodedFields.count + 128)
        JournalJSON.start(fields: encodedFields, kind: kind, to: &json)
        let sourceJSON = JournalJSON.string(source)
        condition.lock()
        defer { condition.unlock() }
        let seq = nextSeq
        nextSeq += 1
        if buffer.isEmpty { condition.broadcast() }  // an idle flusher sleeps until there is something
        JournalJSON.finish(seq: seq, source: sourceJSON, time: clock.elapsed, wall: wallClock.now(), to: &json)
        JournalFormat.frame(json, into: &buffer)
        bufferedUpTo = seq
        return seq
    }

    /// Appends a record and returns once it is on stable storage.
    func appendDurably(source: String, kind: String, fields: [String: JSONValue]) async throws {
        let seq = append(source: source, kind: kind, fields: fields)
        try await waitUntilDurable(seq)
    }

    /// Returns once every record up to `seq` is on stable storage.
    func waitUntilDurable(_ seq: UInt64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            if let failure {
                continuation.resume(throwing: failure)
            } else if syncedUpTo >= seq {
                continuation.resume()
            } else {
                waiters.append((seq, continuation))
                durableRecords += 1
                condition.broadcast()
            }
        }
    }

    /// fsyncs issued and records that waited for one: their ratio is the mean group size.
    var syncStatistics: (syncs: Int, durableRecords: Int) { condition.withLock { (syncs, durableRecords) } }

    /// Writes and syncs everything, then stops the flusher and closes the file.
    func close() async throws {
        let seq: UInt64 = condition.withLock { nextSeq - 1 }
        try await waitUntilDurable(seq)
        stopFlusher()
        Glibc.close(fd)
    }

    private func stopFlusher() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !flusherDone { condition.wait() }
        condition.unlock()
    }

    private func flushLoop() {
        // Every durable answer waits for this thread: on a busy machine it should not wait for
        // a time slice behind the work that fills the cores (allowed for root; else unchanged).
        _ = csupport_raise_thread_priority(-10)
        condition.lock()
        while true {
            // Nothing buffered and nobody waiting: sleep until an append (an idle host does
            // not wake every second for nothing).
            while buffer.isEmpty && waiters.isEmpty && !closing { condition.wait() }
            let deadline = ContinuousClock.now + .seconds(1)
            while waiters.isEmpty && !closing && ContinuousClock.now < deadline {
                condition.wait(until: deadline)
            }
            if closing && buffer.isEmpty && waiters.isEmpty {
                flusherDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let pending = buffer
            let upTo = bufferedUpTo
            let mustSync = !waiters.isEmpty || closing
            buffer.removeAll(keepingCapacity: true)
            condition.unlock()

            var problem: JournalError?
            if !pending.isEmpty && !writeAll(pending) {
                problem = .writeFailed(url.path, String(cString: strerror(errno)))
            }
            if problem == nil && mustSync && fsync(fd) != 0 {
                problem = .writeFailed(url.path, String(cString: strerror(errno)))
            }

            condition.lock()
            if mustSync && problem == nil { syncs += 1 }
            var ready: [CheckedContinuation<Void, any Error>] = []
            if let problem {
                failure = problem
                ready = waiters.map(\.continuation)
                waiters.removeAll()
            } else if mustSync && !groupCommit {
                syncedUpTo = max(syncedUpTo, upTo)
                if let first = waiters.indices.min(by: { waiters[$0].seq < waiters[$1].seq }) {
                    ready.append(waiters.remove(at: first).continuation)
                }
            } else if mustSync {
                syncedUpTo = max(syncedUpTo, upTo)
                waiters.removeAll { waiter in
                    guard waiter.seq <= syncedUpTo else { return false }
                    ready.append(waiter.continuation)
                    return true
                }
            }
            if !ready.isEmpty {
                condition.unlock()
                for continuation in ready {
                    if let problem { continuation.resume(throwing: problem) } else { continuation.resume() }
                }
                condition.lock()
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in (try? FileIO.writeAll(fd, raw)) != nil }
    }
}

enum JournalError: Error, CustomStringConvertible {
    case cannotOpen(String, String)
    case writeFailed(String, String)

    var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open journal \(path): \(reason)"
        case .writeFailed(let path, let reason): return "cannot write journal \(path): \(reason)"
        }
    }
}
