import Foundation

/// A value guarded by a lock, so request handlers running on many threads can share it.
/// (`Synchronization.Mutex` would need macOS 15; the package targets macOS 14.)
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
