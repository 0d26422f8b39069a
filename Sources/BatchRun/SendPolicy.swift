/// What a sending pass does besides talking to Rebilly (the gateway owns attempts, backoff
/// and the in-doubt wait): how many rows at once, and whether deposit requests are made.
public struct SendPolicy: Sendable {
    /// `--no-deposits` turns this off: only cashiers are created.
    public var deposits: Bool = true
    /// `--concurrency`: rows in flight at once.
    public var concurrency: Int = 16

    public init(deposits: Bool = true, concurrency: Int = 16) {
        self.deposits = deposits
        self.concurrency = concurrency
    }
}
