import Synchronization

/// One decision at a time, journal writes included: a decision and its records are made before
/// the next decision starts, so the journal holds them in the order they were taken and a
/// replay rebuilds the same state. (Deciding under a lock and writing after it would let a
/// later decision's record overtake an earlier one while that one waits for stable storage.)
///
/// An async lock: a task waiting its turn suspends, it holds no thread.
final class DecisionLane: Sendable {
    private struct State {
        var busy = false
        var queue: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Runs `body` when no other decision is under way.
    func serially<T: Sendable>(_ body: () async -> T) async -> T {
        await enter()
        defer { leave() }
        return await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = state.withLock { state in
                if state.busy {
                    state.queue.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if free { continuation.resume() }
        }
    }

    /// Hands the lane to the next in line (it stays busy), or frees it.
    private func leave() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            if state.queue.isEmpty {
                state.busy = false
                return nil
            }
            return state.queue.removeFirst()
        }
        next?.resume()
    }
}
