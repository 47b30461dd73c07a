/// Wakes the run's owner when something is next due, and not before: an idle host sleeps until
/// its nearest deadline (it used to tick ten times a second, which cost a guest that waits for
/// hours 0.35% of a core).
struct Alarm {
    private let clock: RunClock
    private let ring: @Sendable () -> Void
    private var at = Double.infinity
    private var sleeper: Task<Void, Never>?

    init(clock: RunClock, ring: @escaping @Sendable () -> Void) {
        self.clock = clock
        self.ring = ring
    }

    /// Rings once at `time` (run-clock seconds), or at the earlier time already set: an alarm
    /// is never pushed later, so inputs that keep arriving (a guest that pings in a loop) cannot
    /// keep it from ringing. Ringing early costs one tick; the owner then sets it again.
    mutating func set(at time: Double) {
        guard time < at else { return }
        sleeper?.cancel()
        at = time
        guard time.isFinite else {
            sleeper = nil
            return
        }
        // A millisecond late rather than a moment early: a deadline checked a moment before it
        // is due would be set again for the same time.
        let delay = max(0, time - clock.elapsed) + 0.001
        sleeper = Task { [ring] in
            do { try await Task.sleep(for: .seconds(delay)) } catch { return }
            ring()
        }
    }

    /// A tick was heard. Once the set time has passed it came from this alarm's sleeper (which
    /// sleeps past it), and the next `set` arms again; an earlier tick (the one a resumed run
    /// starts with, or one from a sleeper set before) leaves the alarm as it is.
    mutating func rang() {
        guard clock.elapsed >= at else { return }
        at = .infinity
        sleeper = nil
    }

    mutating func cancel() {
        sleeper?.cancel()
        sleeper = nil
        at = .infinity
    }
}
