/// A failed attempt of a call to Rebilly, as the gateway classifies it: what the failure means
/// for the row (its `kind`) and whether the call may have been applied. The row's lifecycle and
/// the gateway's own reads decide what follows from it alone.
public struct CallFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 422 and any other 4xx but 401/403/408/429: the row itself is wrong; sending it again
        /// cannot help. Its `invalidFields` are the reasons.
        case rowFinal
        /// 408, 429, 5xx, timeouts, connection errors, an undecodable 2xx: try again after a pause.
        case retryable
        /// 401/403: the credentials are refused; the whole command stops (exit 77).
        case stopCommand
        /// The request did not reach Rebilly's API (a redirect, a 404 on a collection path):
        /// a fault of the night's configuration, not of the row. The row is left for `retry`.
        case misdirected
    }

    public var kind: Kind
    /// The HTTP status, when there was an answer.
    public var status: Int?
    /// One line, without the key or the body sent.
    public var message: String
    public var latency: Duration
    /// A POST that failed this way may still have been applied (`RebillyError.mayHaveBeenApplied`,
    /// the one rule for it).
    public var mayHaveBeenApplied: Bool
    /// The API's reasons (422).
    public var invalidFields: [FieldIssue]
    /// A 429's or 503's instant to retry at, on this process's clock (nil when none was named).
    public var retryAfter: ContinuousClock.Instant?
    /// The same instant in epoch seconds on the server's clock (for the operator).
    public var retryAfterEpochSeconds: Double?
    /// For a failure that is the night's rather than the row's (no answer from Rebilly's API,
    /// or not Rebilly's API answering): its cause in one line, the same for every request it
    /// hits ("connection refused by 127.0.0.1:8399"). A run of them stops the command (69).
    public var nightCause: String?

    public init(kind: Kind, status: Int?, message: String, latency: Duration, mayHaveBeenApplied: Bool,
                invalidFields: [FieldIssue] = [], retryAfter: ContinuousClock.Instant? = nil,
                retryAfterEpochSeconds: Double? = nil, nightCause: String? = nil) {
        self.kind = kind
        self.status = status
        self.message = message
        self.latency = latency
        self.mayHaveBeenApplied = mayHaveBeenApplied
        self.invalidFields = invalidFields
        self.retryAfter = retryAfter
        self.retryAfterEpochSeconds = retryAfterEpochSeconds
        self.nightCause = nightCause
    }

    /// A 429 or 503: the server asks everyone to slow down.
    public var isThrottle: Bool { status == 429 || status == 503 }

    /// For a request that must not be repeated blindly (a deposit-request POST): whether this
    /// failure leaves it in doubt.
    public var leavesInDoubt: Bool { kind == .retryable && mayHaveBeenApplied }

    /// Whether the call is tried again after this failure of its `attempt`-th attempt.
    public func isRetried(afterAttempt attempt: Int, of maxAttempts: Int) -> Bool {
        kind == .retryable && attempt < maxAttempts
    }

    public var description: String { message }
}
