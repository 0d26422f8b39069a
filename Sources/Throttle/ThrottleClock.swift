import Foundation  // NSLock for ManualClock

/// The time source of the limiter, the backoff sleeps and the semaphore tests.
///
/// Production uses `SystemThrottleClock` (the monotonic `ContinuousClock`); tests use
/// `ManualClock` so that minutes of simulated traffic run in milliseconds and every
/// grant time is exact. Instants are `ContinuousClock.Instant` so that a pause
/// computed from an HTTP header (`X-RateLimit-Retry-After`) can be handed straight in.
public protocol ThrottleClock: Sendable {
    /// The current instant.
    var now: ContinuousClock.Instant { get }
    /// Suspends until `deadline` (returns at once if it has passed). Throws
    /// `CancellationError` when the calling task is cancelled.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

/// The real monotonic clock.
public struct SystemThrottleClock: ThrottleClock {
    public init() {}
    public var now: ContinuousClock.Instant { ContinuousClock.now }
    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, tolerance: .milliseconds(1), clock: .continuous)
    }
}

/// A clock that only moves when told to (`advance(by:)`, `advance(to:)`,
/// `advanceToNextDeadline()`), for deterministic tests of the limiter and of the
/// code that uses it. Sleepers are resumed in deadline order; cancellation resumes
/// a sleeper with `CancellationError`.
public final class ManualClock: ThrottleClock, @unchecked Sendable {
    private struct Sleeper {
        let id: UInt64
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private let lock = NSLock()
    private var current: ContinuousClock.Instant
    private var sleepers: [Sleeper] = []
    private var nextID: UInt64 = 0

    /// Starts at `start` (default: the real now, so instants stay meaningful).
    public init(start: ContinuousClock.Instant = ContinuousClock.now) {
        self.current = start
    }

    public var now: ContinuousClock.Instant { lock.withLock { current } }

    /// Number of tasks currently suspended in `sleep(until:)`.
    public var sleeperCount: Int { lock.withLock { sleepers.count } }

    /// The earliest deadline among the current sleepers.
    public var nextDeadline: ContinuousClock.Instant? { lock.withLock { sleepers.map(\.deadline).min() } }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try Task.checkCancellation()
        let id: UInt64 = lock.withLock { nextID += 1; return nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = lock.withLock {
                    if deadline <= current { return true }
                    sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let cancelled: Sleeper? = lock.withLock {
                guard let index = sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return sleepers.remove(at: index)
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `duration` and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        advance(to: now + duration)
    }

    /// Moves the clock to `instant` (never backwards) and wakes the sleepers due by then.
    public func advance(to instant: ContinuousClock.Instant) {
        let due: [Sleeper] = lock.withLock {
            if instant > current { current = instant }
            let due = sleepers.filter { $0.deadline <= current }.sorted { $0.deadline < $1.deadline }
            sleepers.removeAll { $0.deadline <= current }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves the clock to the earliest sleeper's deadline and wakes it (and any other
    /// sleeper due then). Returns false if nobody sleeps.
    @discardableResult
    public func advanceToNextDeadline() -> Bool {
        guard let deadline = nextDeadline else { return false }
        advance(to: deadline)
        return true
    }
}
