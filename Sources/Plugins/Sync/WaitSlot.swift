import PluginAPI
import Synchronization

/// Where one waiting request's reply is put: filled once, by whichever decision ends the wait
/// (the last arrival, a dead peer, an unlock, the timeout), awaited by the request's task.
/// A task suspends on it; no thread is held.
final class WaitSlot: Sendable {
    private struct State {
        var reply: Reply?
        var waiter: CheckedContinuation<Reply, Never>?
    }

    private let state = Mutex(State())

    /// Fills the slot; a second reply is ignored (the first decision wins).
    func fill(_ reply: Reply) {
        let waiter: CheckedContinuation<Reply, Never>? = state.withLock { state in
            guard state.reply == nil else { return nil }
            state.reply = reply
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: reply)
    }

    var isFilled: Bool { state.withLock { $0.reply != nil } }

    /// The reply, once the slot is filled.
    var reply: Reply {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Reply? = state.withLock { state in
                    if let reply = state.reply { return reply }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
