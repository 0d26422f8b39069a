/// The row accounting of a run's batch (or of several, summed):
/// `read == done + skipped + rejected + failed + inDoubt + needsReview + unfinished`.
///
/// `skipped` counts rows that were already `done` before this run touched them: the run did not
/// send them again ("skipped-as-done"). It is derived, not stored, which is why it is not a
/// ``RowState``. The counts are the rows' states now: a later retry changes them.
public struct RowCounts: Sendable, Equatable, Hashable, Codable {
    /// Rows staged for the batch (valid + rejected).
    public var read = 0
    /// Rows done by this run (or a later one).
    public var done = 0
    /// Rows already done by an earlier run: not sent again.
    public var skipped = 0
    public var rejected = 0
    public var failed = 0
    public var inDoubt = 0
    /// Rows whose deposit request a person must decide on (`resolve`).
    public var needsReview = 0
    /// `pending` + `cashier_created`: work not finished (an interrupted run).
    public var unfinished = 0
    /// Rows (of any state above) whose cashier an earlier night had recorded: no `POST /cashiers`
    /// was made for them (`rows.cashier_known_from`). Not a part of `read`'s sum, and not in the
    /// recorded JSON of a reconciliation's accounting (the reports read it from the rows).
    public var cashierKnown = 0

    enum CodingKeys: String, CodingKey { case read, done, skipped, rejected, failed, inDoubt, needsReview, unfinished }

    public init(read: Int = 0, done: Int = 0, skipped: Int = 0, rejected: Int = 0, failed: Int = 0, inDoubt: Int = 0,
                needsReview: Int = 0, unfinished: Int = 0, cashierKnown: Int = 0) {
        self.read = read
        self.done = done
        self.skipped = skipped
        self.rejected = rejected
        self.failed = failed
        self.inDoubt = inDoubt
        self.needsReview = needsReview
        self.unfinished = unfinished
        self.cashierKnown = cashierKnown
    }

    /// The parts in display order, with their JSON names.
    public var parts: [(name: String, value: Int)] {
        [("done", done), ("skipped", skipped), ("rejected", rejected), ("failed", failed),
         ("inDoubt", inDoubt), ("needsReview", needsReview), ("unfinished", unfinished)]
    }

    /// Does `read` equal the sum of the parts?
    public var closes: Bool { read == parts.reduce(0) { $0 + $1.value } }

    public static func + (a: RowCounts, b: RowCounts) -> RowCounts {
        RowCounts(read: a.read + b.read, done: a.done + b.done, skipped: a.skipped + b.skipped, rejected: a.rejected + b.rejected,
                  failed: a.failed + b.failed, inDoubt: a.inDoubt + b.inDoubt, needsReview: a.needsReview + b.needsReview,
                  unfinished: a.unfinished + b.unfinished, cashierKnown: a.cashierKnown + b.cashierKnown)
    }
}
