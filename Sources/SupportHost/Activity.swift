import PluginAPI
import Synchronization

/// When each guest last did anything, for its activity timeout: every request head and every
/// body chunk touches the clock of the guest whose token it carried, from any event loop,
/// without a lock on the hot path. A run of one guest has one clock.
final class Activity: Sendable {
    private let clock: RunClock
    /// One per guest, in the job's order; the set is fixed when the run begins.
    private let clocks: [String: GuestClock]
    private let names: [String]
    private let requests = Atomic<Int64>(0)
    private let bytesIn = Atomic<Int64>(0)
    private let bytesOut = Atomic<Int64>(0)

    /// One guest's last activity and last request.
    private final class GuestClock: Sendable {
        let lastMillis = Atomic<Int64>(0)
        let lastRequest = Mutex<(method: String, path: String, time: Double)?>(nil)
    }

    init(clock: RunClock, guests: [String] = [GuestDescription.defaultName]) {
        self.clock = clock
        names = guests
        clocks = Dictionary(guests.map { ($0, GuestClock()) }) { first, _ in first }
        let now = Int64(clock.elapsed * 1000)
        for guestClock in clocks.values { guestClock.lastMillis.store(now, ordering: .relaxed) }
    }

    /// A new request: counts as its guest's activity and becomes "the last request" of the report.
    func request(_ method: String, _ path: String, guest: String = GuestDescription.defaultName) {
        let now = clock.elapsed
        requests.add(1, ordering: .relaxed)
        guard let guestClock = clocks[guest] ?? clocks[names[0]] else { return }
        guestClock.lastMillis.store(Int64(now * 1000), ordering: .relaxed)
        guestClock.lastRequest.withLock { $0 = (method, path, now) }  // joined only when asked for
    }

    /// Something a plug-in counts as activity: one guest's (`countsAsActivity(of:)`), or every
    /// guest's when `guest` is nil (`countsAsActivity()`).
    func touch(guest: String? = nil) {
        let now = Int64(clock.elapsed * 1000)
        if let guest {
            clocks[guest]?.lastMillis.store(now, ordering: .relaxed)
        } else {
            for guestClock in clocks.values { guestClock.lastMillis.store(now, ordering: .relaxed) }
        }
    }

    /// Bytes still arriving or leaving count as their guest's activity too.
    func bytes(in received: Int = 0, out sent: Int = 0, guest: String = GuestDescription.defaultName) {
        (clocks[guest] ?? clocks[names[0]])?.lastMillis.store(Int64(clock.elapsed * 1000), ordering: .relaxed)
        if received > 0 { bytesIn.add(Int64(received), ordering: .relaxed) }
        if sent > 0 { bytesOut.add(Int64(sent), ordering: .relaxed) }
    }

    /// Seconds on the run clock of the last activity of any guest.
    var lastActivity: Double { names.map(lastActivity(of:)).max() ?? 0 }

    /// Seconds on the run clock of one guest's last activity.
    func lastActivity(of guest: String) -> Double {
        Double(clocks[guest]?.lastMillis.load(ordering: .relaxed) ?? 0) / 1000
    }

    /// The last request of any guest.
    var last: (description: String, time: Double)? {
        names.compactMap(last(of:)).max { $0.time < $1.time }
    }

    /// One guest's last request.
    func last(of guest: String) -> (description: String, time: Double)? {
        clocks[guest]?.lastRequest.withLock { $0 }.map { ("\($0.method) \($0.path)", $0.time) }
    }

    var counters: (requests: Int64, bytesIn: Int64, bytesOut: Int64) {
        (requests.load(ordering: .relaxed), bytesIn.load(ordering: .relaxed), bytesOut.load(ordering: .relaxed))
    }
}
