import Dispatch

/// Runs blocking work (an `fsync`, a large `write`) on a dispatch worker thread and waits for
/// it without holding one of Swift's few cooperative threads.
///
/// On a 2-core machine the cooperative pool has 2 threads: an import hook that calls `fsync`
/// directly serialises every upload behind them, so concurrent uploads can never share a
/// journal flush. Off the pool, many fsyncs proceed at once.
///
/// ```swift
/// let digest = try await blocking { try writer.commit(as: name) }
/// ```
package func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
