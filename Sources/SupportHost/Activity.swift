import Synchronization

/// When the guest last did anything, for the activity timeout: every request head and every
/// body chunk touches it, from any event loop, without a lock on the hot path.
final class Activity: Sendable {
    private let clock: RunClock
    private let lastMillis = Atomic<Int64>(0)
    private let lastRequest = Mutex<(method: String, path: String, time: Double)?>(nil)
    private let requests = Atomic<Int64>(0)
    private let bytesIn = Atomic<Int64>(0)
    private let bytesOut = Atomic<Int64>(0)

    init(clock: RunClock) {
        self.clock = clock
        lastMillis.store(Int64(clock.elapsed * 1000), ordering: .relaxed)
    }

    /// A new request: counts as activity and becomes "the last request" of the report.
    func request(_ method: String, _ path: String) {
        let now = clock.elapsed
        lastMillis.store(Int64(now * 1000), ordering: .relaxed)
        requests.add(1, ordering: .relaxed)
        lastRequest.withLock { $0 = (method, path, now) }  // joined only when asked for
    }

    /// Something a plug-in counts as the guest's activity (`HostContext.countsAsActivity()`).
    func touch() {
        lastMillis.store(Int64(clock.elapsed * 1000), ordering: .relaxed)
    }

    /// Bytes still arriving or leaving count as activity too.
    func bytes(in received: Int = 0, out sent: Int = 0) {
        lastMillis.store(Int64(clock.elapsed * 1000), ordering: .relaxed)
        if received > 0 { bytesIn.add(Int64(received), ordering: .relaxed) }
        if sent > 0 { bytesOut.add(Int64(sent), ordering: .relaxed) }
    }

    /// Seconds on the run clock of the last activity.
    var lastActivity: Double { Double(lastMillis.load(ordering: .relaxed)) / 1000 }

    var last: (description: String, time: Double)? {
        lastRequest.withLock { $0 }.map { ("\($0.method) \($0.path)", $0.time) }
    }

    var counters: (requests: Int64, bytesIn: Int64, bytesOut: Int64) {
        (requests.load(ordering: .relaxed), bytesIn.load(ordering: .relaxed), bytesOut.load(ordering: .relaxed))
    }
}
