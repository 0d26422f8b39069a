import Foundation
import Synchronization

/// What a sending pass does besides talking to Rebilly (the gateway owns attempts, backoff
/// and the in-doubt wait): how many rows at once, and whether deposit requests are made.
public struct SendPolicy: Sendable {
    /// `--no-deposits` turns this off: only cashiers are created.
    public var deposits: Bool = true
    /// `--concurrency`: rows in flight at once.
    public var concurrency: Int = 16
    /// `--until`: the window the night must fit in (nil: no end).
    public var window: SendWindow?

    public init(deposits: Bool = true, concurrency: Int = 16, window: SendWindow? = nil) {
        self.deposits = deposits
        self.concurrency = concurrency
        self.window = window
    }

    /// The writes (non-GET requests) one row needs at most: its cashier, and its deposit request.
    public var writesPerRow: Int { deposits ? 2 : 1 }
}

/// `--until TIME`: no row starts that cannot finish by `deadline` with the write budget as it
/// stands; rows in flight finish; a parked in-doubt row whose settle time falls after the deadline
/// is left in doubt. Shared by every batch of a run: once closed, no later batch starts a row.
public final class SendWindow: Sendable {
    public let deadline: Date
    private let state = Mutex<Bool>(false)

    public init(deadline: Date) { self.deadline = deadline }

    /// True once a row was left unstarted, or a parked row in doubt, because of the deadline.
    public var isClosed: Bool { state.withLock { $0 } }
    func close() { state.withLock { $0 = true } }

    /// When a row started now is expected to finish: once the writes ahead of it and its own
    /// have been granted (`grantSeconds`, from the write budget as it stands: bucket, window,
    /// pause and rate), with `margin` seconds for the last answer to come back.
    public static func expectedFinish(now: Date, grantSeconds: Double, margin: Double = answerMargin) -> Date {
        now.addingTimeInterval(max(0, grantSeconds) + margin)
    }

    /// Seconds allowed for the answer to a row's last write.
    public static let answerMargin = 0.5

    /// Whether the row would finish by the deadline.
    func fits(now: Date, grantSeconds: Double) -> Bool {
        Self.expectedFinish(now: now, grantSeconds: grantSeconds) <= deadline
    }
}
