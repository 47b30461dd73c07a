import PluginAPI

extension SyncPlugin {
    /// Takes one decision in its turn, writes its records in order (a durable one reaches
    /// stable storage before any reply), then answers the waiters it ends. A failed durable
    /// write turns its 2xx answers into 500: the guest never hears a yes the journal lacks.
    func decide<T: Sendable>(_ step: @Sendable (inout SyncState, inout SyncDecision) throws -> T) async throws -> T {
        try await lane.serially { () async -> Result<T, any Error> in
            var decision = SyncDecision()
            let result = state.withLock { state in Result { try step(&state, &decision) } }
            var journalError: (any Error)?
            for record in decision.records {
                if record.durable {
                    do { try await context.recordDurably(record.kind, record.fields) } catch {
                        journalError = error
                        break
                    }
                } else {
                    context.record(record.kind, record.fields)
                }
            }
            for (slot, reply) in decision.replies {
                if let journalError, reply.status < 300 {
                    slot.fill(SyncReply.text(500, "the journal could not be written: \(journalError)"))
                } else {
                    slot.fill(reply)
                }
            }
            if let journalError, case .success = result { return .failure(journalError) }
            return result
        }.get()
    }

    /// Makes a waiting request's decision, then waits (suspended) for its reply: while it waits
    /// the guest counts as active about once a second, and at the timeout it gets 408.
    func wait(
        guest: String, timeout asked: Double?,
        _ step: @escaping @Sendable (inout SyncState, Waiter, inout SyncDecision) throws -> Void
    ) async throws -> Reply {
        let timeout = min(asked ?? settings.timeout, settings.maxTimeout)
        let waiter = makeWaiter(guest)
        try await decide { state, decision in try step(&state, waiter, &decision) }
        if waiter.slot.isFilled { return await waiter.slot.reply }
        return await withTaskGroup(of: Void.self, returning: Reply.self) { group in
            group.addTask { await self.keepAlive(waiter, timeout: timeout) }
            let reply = await waiter.slot.reply
            group.cancelAll()
            return reply
        }
    }

    /// Counts the waiting guest as active once a second, and ends its wait at the deadline.
    private func keepAlive(_ waiter: Waiter, timeout: Double) async {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(timeout)
        while !Task.isCancelled, !waiter.slot.isFilled {
            let left = deadline - clock.now
            if left <= .zero {
                _ = try? await decide { state, decision in
                    state.barrierWaitExpired(waiter.id, after: timeout, &decision)
                        || state.mutexWaitExpired(waiter.id, after: timeout, &decision)
                        || state.eventWaitExpired(waiter.id, after: timeout, &decision)
                }
                return
            }
            try? await Task.sleep(for: min(left, .seconds(1)))
            if !Task.isCancelled, !waiter.slot.isFilled { context.countsAsActivity(of: waiter.guest) }
        }
    }
}
