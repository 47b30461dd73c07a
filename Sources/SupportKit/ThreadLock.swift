import CSupport
import Glibc

/// A pthread mutex, for state that plain threads share (Foundation's `NSLock`, without linking
/// Foundation into the host: issue 18).
package final class ThreadLock: @unchecked Sendable {
    // Safe: the mutex is allocated once, never moved, and destroyed in deinit.
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    package init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }

    package func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A mutex and a condition variable (Foundation's `NSCondition`): threads wait under the lock
/// until another one broadcasts, or until a deadline.
package final class ThreadCondition: @unchecked Sendable {
    // Safe: the lock and the condition are allocated once, never moved, destroyed in deinit.
    private let mutex = ThreadLock()
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    package init() {
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Deadlines are monotonic: a wall-clock step must not stretch or cut a wait.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    package func lock() { mutex.lock() }
    package func unlock() { mutex.unlock() }
    package func withLock<T>(_ body: () throws -> T) rethrows -> T { try mutex.withLock(body) }
    package func broadcast() { pthread_cond_broadcast(condition) }

    /// Waits (holding the lock) until a broadcast or a spurious wake-up.
    package func wait() { pthread_cond_wait(condition, mutex.mutex) }

    /// Waits (holding the lock) at most until `deadline`; false once the deadline has passed.
    @discardableResult
    package func wait(until deadline: ContinuousClock.Instant) -> Bool {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { return false }
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let (seconds, attoseconds) = remaining.components
        let nanoseconds = end.tv_nsec + Int(attoseconds / 1_000_000_000)
        end.tv_sec += Int(seconds) + nanoseconds / 1_000_000_000
        end.tv_nsec = nanoseconds % 1_000_000_000
        return pthread_cond_timedwait(condition, mutex.mutex, &end) == 0
    }
}

/// Starts a named thread that runs `body` (Foundation's `Thread`): for work that blocks and must
/// not hold one of Swift's cooperative threads or an event loop.
package func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    var thread = pthread_t()
    let named = Box { [name] in
        _ = csupport_name_this_thread(String(name.prefix(15)))
        body()
    }
    let context = Unmanaged.passRetained(named).toOpaque()
    let created = pthread_create(&thread, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    precondition(created == 0, "pthread_create failed: \(created)")
    pthread_detach(thread)
}
