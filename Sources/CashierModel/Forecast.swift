import Foundation

/// What a sending pass expects, said when it starts (the `forecast` log line) and shown in the
/// reports beside what happened.
public struct Forecast: Sendable, Equatable {
    /// Open rows to send (rows already done excluded).
    public var rows: Int
    /// Writes needed: 2 a row with deposit requests, 1 without, less the cashier creates of
    /// customers an earlier night created.
    public var writes: Int
    /// Reads planned: 0 (the in-doubt listings a night needs cannot be known in advance).
    public var reads: Int
    /// The write budget left: the configured window's count (no answer carried
    /// `X-RateLimit-Remaining` yet when sending starts).
    public var budgetLeft: Int
    /// Rebilly's own count: `X-RateLimit-Remaining` on the first write answer that carried it
    /// (nil when none did).
    public var budgetLeftByRebilly: Int? = nil
    /// The configured write budget (`--rate`, after a shard's split), e.g. `3000/10m`.
    public var budget: String
    /// The write budget's current rate, requests per second.
    public var ratePerSecond: Double
    public var at: Date
    /// `at` + writes ÷ rate.
    public var expectedEnd: Date
    /// `--until`, when given.
    public var until: Date?

    public init(rows: Int, writes: Int, reads: Int, budgetLeft: Int, budget: String, ratePerSecond: Double,
                at: Date, expectedEnd: Date, until: Date?) {
        self.rows = rows
        self.writes = writes
        self.reads = reads
        self.budgetLeft = budgetLeft
        self.budget = budget
        self.ratePerSecond = ratePerSecond
        self.at = at
        self.expectedEnd = expectedEnd
        self.until = until
    }

    /// The expected end passes `--until`.
    public var overruns: Bool { until.map { expectedEnd > $0 } ?? false }
}
