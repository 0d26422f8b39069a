/// An async counting semaphore: at most `limit` holders at once (`--concurrency`).
///
/// It bounds the requests (or rows) in flight independently of the rate, so a slow
/// server cannot make the job open an unbounded number of connections or hold an
/// unbounded number of rows in doubt. Waiters are served first come, first served;
/// a waiter whose task is cancelled leaves the line with `CancellationError`.
public actor InFlightLimit {
    /// The most permits that can be held at once.
    public nonisolated let limit: Int
    /// Permits held right now.
    public private(set) var inUse = 0
    /// The most permits ever held at the same time (for tests and reports).
    public private(set) var peak = 0

    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextID: UInt64 = 0

    public init(_ limit: Int) {
        precondition(limit >= 1, "the in-flight limit must be at least 1")
        self.limit = limit
    }

    /// Tasks waiting for a permit.
    public var waiting: Int { waiters.count }

    /// Waits for a permit. Every successful `acquire()` needs one `release()`.
    public func acquire() async throws {
        try Task.checkCancellation()
        if inUse < limit, waiters.isEmpty {
            take()
            return
        }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
        // The permit was handed over by `release()` (inUse already counts it).
    }

    /// Returns a permit, handing it straight to the first waiter if there is one.
    public func release() {
        precondition(inUse > 0, "release() without acquire()")
        if waiters.isEmpty {
            inUse -= 1
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }

    /// Runs `body` holding a permit, released however `body` ends.
    public func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        do {
            let value = try await body()
            release()
            return value
        } catch {
            release()
            throw error
        }
    }

    private func take() {
        inUse += 1
        peak = max(peak, inUse)
    }

    private func cancel(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
