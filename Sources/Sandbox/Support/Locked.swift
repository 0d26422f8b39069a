import Foundation

/// A value guarded by a lock, shared by reference by request handlers running on many threads
/// (a `Synchronization.Mutex` cannot be copied into the values that hold it).
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
