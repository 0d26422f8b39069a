import Synchronization

/// Why a run stopped taking rows before the end.
public enum StopReason: Sendable, Equatable {
    /// 401/403: bad credentials must not burn through the batch.
    case credentialsRefused(String)
    /// SIGINT (130) or SIGTERM (143).
    case signal(Int32)
    /// The ledger could not record a write: nothing more may be sent (exit 74).
    case ledgerFailed(String)
}

/// Shared by every worker of a run: the stop flag, checked before each row and each attempt.
public final class RunControl: Sendable {
    private let state = Mutex<StopReason?>(nil)

    public init() {}

    /// Records the first reason; later ones are ignored.
    public func stop(_ reason: StopReason) {
        state.withLock { if $0 == nil { $0 = reason } }
    }

    public var stopReason: StopReason? { state.withLock { $0 } }
    public var isStopped: Bool { stopReason != nil }
}

/// The rate limit and pause every request of a run passes through (Throttle's limiter behind it).
public protocol RequestGate: Sendable {
    /// Waits for permission to send one request.
    func acquire() async throws
    /// A 429 (or 503, `status`) arrived: pause every worker (until `retryAfterSeconds` if known) and slow down.
    func throttled(status: Int, retryAfterSeconds: Double?) async
    /// A request succeeded: recover toward the configured rate, and slow down when the
    /// API says few requests remain in its window.
    func succeeded(quota: Quota) async
}

/// A gate that never waits (tests, `--rate` unlimited).
public struct OpenGate: RequestGate {
    public init() {}
    public func acquire() async throws { try Task.checkCancellation() }
    public func throttled(status: Int, retryAfterSeconds: Double?) async {
        if let seconds = retryAfterSeconds, seconds > 0 { try? await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
    }
    public func succeeded(quota: Quota) async {}
}
