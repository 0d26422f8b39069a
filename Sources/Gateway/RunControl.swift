import Synchronization

/// Why a command stopped taking rows before the end.
public enum StopReason: Sendable, Equatable {
    /// 401/403: bad credentials must not burn through the batch (exit 77).
    case credentialsRefused(String)
    /// SIGINT (130) or SIGTERM (143).
    case signal(Int32)
    /// The ledger could not record a write: nothing more may be sent (exit 74).
    case ledgerFailed(String)
    /// The same failure that is not the rows' hit request after request (Rebilly's API cannot
    /// be reached, or is not what answers): the rows are left for `retry` (exit 69).
    case apiUnreachable(String)
}

/// The command's stop flag, shared by every worker and by the gateway: checked before each
/// row and each attempt. The first reason wins.
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
