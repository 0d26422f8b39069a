/// How hard a run tries: attempts per call, backoff, and whether deposit requests are made.
public struct SendPolicy: Sendable {
    /// Attempts per API call before the row is recorded as failed (`--max-attempts`).
    public var maxAttempts: Int = 6
    /// Full-jitter backoff: a random pause in 0…min(cap, base·2^attempt).
    public var backoffBase: Duration = .milliseconds(100)
    public var backoffCap: Duration = .seconds(20)
    /// `--no-deposits` turns this off: only cashiers are created.
    public var deposits: Bool = true
    /// `--concurrency`: rows in flight at once.
    public var concurrency: Int = 16
    /// A deposit request listed for the row's customer counts as this row's when it was
    /// created no earlier than this margin before the row's first deposit attempt
    /// (covers clock skew between this machine and the API; nights are 24 h apart).
    public var adoptionSkewSeconds: Double = 300
    /// An in-doubt deposit request is verified only once its last POST is this old
    /// (`--in-doubt-settle`): the server may still commit a request whose answer was
    /// lost, so listing too early could miss it and the next POST would duplicate it.
    /// The default matches the client's request deadline.
    public var inDoubtSettleSeconds: Double = 60

    public init() {}
}
