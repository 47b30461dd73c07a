/// A value guarded by a lock: the simple way for a plug-in to keep state that hooks on several
/// threads share.
package final class Locked<Value>: @unchecked Sendable {
    // Safe: every access to `value` goes through `lock`.
    private let lock = ThreadLock()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    package func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
