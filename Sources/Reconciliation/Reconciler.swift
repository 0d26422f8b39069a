import CashierModel
import Foundation
import Ledger
import Gateway
import RebillyClient

/// Reconciles a run: the operator's figures (the batch rows in the ledger) against what
/// Rebilly holds, exactly, in minor units; records the result in the ledger
/// (``Ledger/recordReconciliation(_:)``) and returns it as a ``ReconciliationReport``.
///
/// - ``reconcileFromLedger(runID:record:)`` makes no call: Rebilly's figures are the ones
///   the ledger holds — the `POST /cashiers` answer the sender recorded (a 200 "retrieved"
///   cashier keeps its OLD figures, which is what this catches), or a later read-back.
///   `run` ends with it.
/// - ``reconcileWithReadBack(runID:gateway:record:)`` reads every cashier back
///   (`GET /cashiers/{id}`, through the command's gateway), stores what it read, and also
///   checks the deposit requests (exactly one per `done` row, by the gateway's ownership
///   rule, the sender's). `reconcile` runs it.
///
/// The reconciliation is recorded under `runID`, replacing any recorded before (a repeated
/// reconciliation supersedes the earlier one). The lifecycle baseline is the most recent
/// EARLIER run that recorded breaks. Ledger calls are synchronous and short.
public struct Reconciler: Sendable {
    /// The ledger to read from and record into.
    public let ledger: Ledger
    /// The time source (`reconciledAt`, first-seen dates); tests inject a fixed clock.
    public var clock: @Sendable () -> Date
    /// Read-back calls in flight at once (each still takes a token from the gateway's limiter).
    public var readBackConcurrency: Int = 4
    /// Rows read from the ledger at once: memory is bounded by a page, not by the night.
    public var pageSize: Int = 1_000
    /// How the deposit requests are listed: the night's per website (the default), or per customer.
    public var depositListing: DepositListingMode = .bulk

    /// How ``reconcileWithReadBack(runID:gateway:record:)`` lists the deposit requests it checks.
    public enum DepositListingMode: String, Sendable, CaseIterable {
        /// Per website, the night's window by createdTime, 1,000 a page (a few GETs a night).
        case bulk
        /// Per customer and website, as the in-doubt check lists (one GET or more per customer).
        case perCustomer = "per-customer"
    }

    /// - Parameters:
    ///   - ledger: An open ledger (shared with the run, if any).
    ///   - clock: The time source.
    public init(ledger: Ledger, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.ledger = ledger
        self.clock = clock
    }

    // MARK: - Entry points

    /// Reconciles run `runID` from the ledger alone (no network).
    ///
    /// - Parameter record: Record the reconciliation in the ledger (replacing the run's earlier
    ///   one). Pass `false` to only compute it (a report of a run that recorded none).
    public func reconcileFromLedger(runID: Int64, record: Bool = true) throws -> ReconciliationReport {
        var (pages, tally) = try start(runID, depositTerms: false)
        while let cashiers = try pages.next(into: &tally) {
            for cashier in cashiers {
                compare(cashier, cashier.stored.map { Observation(figures: $0.figures, source: $0.source, detail: nil) }, into: &tally)
            }
        }
        let report = finish(runID: runID, tally: tally, deposits: nil, method: .ledger, readBackRequests: 0, readBackFailures: 0)
        if record { try ledger.recordReconciliation(report) }
        return report
    }

    /// Reconciles run `runID` against a read-back of every cashier (`GET /cashiers/{id}`),
    /// and checks the deposit requests of its `done` rows: in bulk, each website's night
    /// (`GET /deposit-requests?filter=websiteId:…;createdTime:…`, 1,000 a page, kept in a scratch
    /// file beside the ledger), else per customer. Every call goes through the command's
    /// `gateway` (its limiter, retries and pauses). What was read is stored (`remote_figures`,
    /// source `readback`) a page of cashiers at a time.
    ///
    /// A cashier whose read-back still fails after the gateway's attempts is not compared: it is
    /// listed in ``ReconciliationReport/unread`` (neither matched nor broken). A 404 is a break
    /// on each figure (Rebilly does not hold the cashier).
    ///
    /// - Throws: ``ReconciliationStopped`` when the command stops (401/403, a signal): no break
    ///   is recorded then (the figures read before the stop are kept); ledger errors.
    public func reconcileWithReadBack(runID: Int64, gateway: RebillyGateway, record: Bool = true) async throws -> ReconciliationReport {
        var (pages, tally) = try start(runID, depositTerms: true)
        var unread: [UnreadCashier] = []
        var requests = 0, failures = 0
        var deposits = DepositCheck(baseline: tally.baselineCashiers)

        // 1. In bulk, the night's deposit requests of each website go to a scratch file first.
        var scratch: DepositListingScratch?
        defer { scratch?.discard() }
        if depositListing == .bulk {
            let listing = try DepositListingScratch(besideLedger: ledger.path)
            scratch = listing
            try await listNights(pages.batches, into: &deposits, scratch: listing, gateway: gateway)
            if let reason = gateway.control.stopReason { throw ReconciliationStopped(reason: reason) }
        }

        // 2. Every cashier read back, a page at a time, a few calls at once; each page compared
        //    and its done rows' deposit requests checked (exactly one each).
        while let cashiers = try pages.next(into: &tally) {
            requests += cashiers.count
            let read = try await readBack(cashiers, gateway: gateway)
            if let reason = gateway.control.stopReason { throw ReconciliationStopped(reason: reason) }
            var toStore: [NewRemoteFigures] = []
            for cashier in cashiers {
                let key = cashier.key
                switch read[cashier.rowID] {
                case let .found(result)?:
                    let figures = RemoteFigures(result.cashier, httpStatus: result.status)
                    compare(cashier, Observation(figures: figures, source: .readBack, detail: nil), into: &tally)
                    toStore.append(NewRemoteFigures(rowID: cashier.rowID, runID: runID, source: .readBack, figures: figures))
                case let .notFound(status, message)?:
                    compare(cashier, Observation(figures: nil, source: .readBack,
                                                 detail: "GET /cashiers/\(cashier.cashierID ?? "?") answered \(status): \(message)"),
                            into: &tally)
                case let .failed(why)?:
                    // Not read is not compared: neither matched nor broken, listed apart.
                    failures += 1
                    unread.append(UnreadCashier(websiteID: key.websiteID, customerID: key.customerID, currency: key.currency,
                                                cashierID: cashier.cashierID, reason: "GET /cashiers/\(cashier.cashierID ?? "?") failed: \(why)"))
                case .stopped?, nil:
                    compare(cashier, cashier.stored.map { Observation(figures: $0.figures, source: $0.source, detail: nil) }, into: &tally)
                }
            }
            try ledger.recordRemoteFigures(toStore)
            try await checkDeposits(tally.doneRows, into: &deposits, scratch: scratch, gateway: gateway)
            tally.doneRows.removeAll(keepingCapacity: true)
            if let reason = gateway.control.stopReason { throw ReconciliationStopped(reason: reason) }
        }

        // 3. A cashier whose deposit requests could not be listed is unread, once.
        let unreadKeys = Set(unread.map { CashierKey(websiteID: $0.websiteID, customerID: $0.customerID, currency: $0.currency) })
        for (key, cashierID) in deposits.unlisted.sorted(by: { $0.key < $1.key }) where !unreadKeys.contains(key) {
            unread.append(UnreadCashier(websiteID: key.websiteID, customerID: key.customerID, currency: key.currency,
                                        cashierID: cashierID, reason: "its deposit requests could not be listed"))
        }
        var report = finish(runID: runID, tally: tally, deposits: deposits, method: .readBack,
                            readBackRequests: requests, readBackFailures: failures)
        report.unread = unread.sorted { ($0.websiteID, $0.customerID, $0.currency) < ($1.websiteID, $1.customerID, $1.currency) }
        if record { try ledger.recordReconciliation(report) }
        return report
    }

    /// Reads one page of cashiers back, at most ``readBackConcurrency`` calls at once.
    func readBack(_ cashiers: [ExpectedCashier], gateway: RebillyGateway) async throws -> [Int64: ReadBack] {
        var read: [Int64: ReadBack] = [:]
        let client = gateway.client
        try await withThrowingTaskGroup(of: (Int64, ReadBack).self) { group in
            var iterator = cashiers.makeIterator()
            func addNext() -> Bool {
                guard let target = iterator.next() else { return false }
                guard let id = target.cashierID else { return addNext() }
                let rowID = target.rowID
                group.addTask {
                    let outcome = try await gateway.call(.safe) { () async throws(RebillyError) -> CashierResult in
                        try await client.getCashier(id: id)
                    }
                    switch outcome {
                    case let .succeeded(result): return (rowID, .found(result))
                    case let .rowFinal(failure): return (rowID, .notFound(status: failure.status ?? 0, message: failure.message))
                    case let .exhausted(failure), let .inDoubt(failure): return (rowID, .failed(failure.message))
                    case .stopped: return (rowID, .stopped)
                    }
                }
                return true
            }
            var inFlight = 0
            while inFlight < max(1, readBackConcurrency), addNext() { inFlight += 1 }
            while let (rowID, result) = try await group.next() {
                read[rowID] = result
                _ = addNext()
            }
        }
        return read
    }

    // MARK: - Scanning the run's rows

    /// (websiteId, customerId, currency): one cashier.
    struct CashierKey: Hashable, Comparable {
        var websiteID: String
        var customerID: String
        var currency: String

        static func < (a: CashierKey, b: CashierKey) -> Bool {
            (a.websiteID, a.customerID, a.currency) < (b.websiteID, b.customerID, b.currency)
        }
    }

    /// (websiteId, currency): one line of the totals.
    struct TotalsKey: Hashable {
        var websiteID: String
        var currency: String
    }

    /// The latest row of the run for one cashier, with the operator's figures.
    struct ExpectedCashier {
        var key: CashierKey
        var rowID: Int64
        var exponent: Int
        var cashierID: String?
        /// balance, bonusBalance, pendingPayoutTotal in minor units (absent = 0).
        var expected: [Int64]
        /// The most recent figures the ledger holds for the row.
        var stored: RemoteFiguresRecord?
        /// Rebilly made the cashier this night (its create answered 201, or went unanswered and the
        /// cashier is no older than that POST).
        var opening = false
    }

    /// A done row whose deposit request is checked.
    struct DoneRow {
        var key: CashierKey
        var rowID: Int64
        var exponent: Int
        var cashierID: String?
        var depositRequestID: String?
        /// The deposit request's terms as the batch gave them (nil: the row's source is unreadable).
        var terms: DepositRequestSpec?
    }

    struct TotalsAccumulator {
        var exponent: Int
        var inputRows = 0
        var sentRows = 0
        var compared = 0
        var input: [Int128] = [0, 0, 0]
        var sent: [Int128] = [0, 0, 0]
        var rebilly: [Int128] = [0, 0, 0]
        var net: [Int128] = [0, 0, 0]
        var gross: [Int128] = [0, 0, 0]
        var opening: [Int128] = [0, 0, 0]
    }

    /// What the comparison has gathered so far. Rows are read a page at a time, so memory grows
    /// with the breaks found, not with every row of the night.
    struct Tally {
        var accounting: [BatchAccountingCheck] = []
        var totals: [TotalsKey: TotalsAccumulator] = [:]
        var inputRows = 0
        /// Valid rows whose payload could not be read (never expected; not compared).
        var unreadable = 0
        /// Cashiers of the run (the latest row per websiteId, customerId and currency with one).
        var cashiers = 0
        var compared = 0
        var cannotWithdraw = 0
        var findings: [Finding] = []
        /// The baseline: the most recent earlier run that recorded breaks, and its breaks.
        var baselineRunID: Int64?
        var baseline: [Break] = []
        /// Their cashiers, and those of them compared now (their breaks resolve or persist).
        var baselineCashiers = Set<CashierKey>()
        var comparedBaseline = Set<CashierKey>()
        /// The current page's done rows whose deposit requests are checked (only for a read-back).
        var doneRows: [DoneRow] = []
    }

    /// The run's rows a page at a time: each page adds to the totals and the accounting and
    /// yields its cashiers.
    struct CashierPages {
        let reconciler: Reconciler
        let runID: Int64
        let depositTerms: Bool
        let batches: [BatchRecord]
        var index = 0
        var afterID: Int64 = 0

        /// The next page's cashiers (possibly none), or nil after the last row of the last batch.
        mutating func next(into tally: inout Tally) throws -> [ExpectedCashier]? {
            let ledger = reconciler.ledger
            while index < batches.count {
                let batch = batches[index]
                if afterID == 0 {
                    tally.accounting.append(try reconciler.accountingCheck(runID: runID, batch: batch))
                    // A refused batch (control totals) sent nothing: it is in the accounting, not in the money.
                    if batch.controlVerdict == .mismatch { index += 1; continue }
                }
                let page = try ledger.rows(batchID: batch.id, states: nil, afterID: afterID, limit: max(1, reconciler.pageSize))
                guard let first = page.first?.id, let last = page.last?.id else {
                    index += 1; afterID = 0
                    continue
                }
                afterID = last
                let range = first...last
                let stored = try ledger.latestRemoteFigures(rows: range)
                let created = try ledger.latestRemoteFigures(rows: range, source: .create)
                // A cashier is in its first night when its create answered 201, or when a create got
                // no answer (a lost 201) and Rebilly's createdTime is not before that POST's second.
                // No skew is allowed: when the clocks disagree the cashier is taken as established
                // and its differences count as drift (the safe side).
                let unanswered = try ledger.unansweredCashierCreates(rows: range)
                let superseded = try ledger.supersededRows(runID: runID, batchID: batch.id, rows: range)
                var cashiers: [ExpectedCashier] = []
                for row in page {
                    guard row.payloadHash != nil, let website = row.websiteID, let customer = row.customerID,
                          let code = row.currency, let currency = Currency(code: code) else { continue }
                    guard let request = row.request() else {
                        tally.unreadable += 1
                        continue
                    }
                    let expected = [request.cashier.balance, request.cashier.bonusBalance, request.cashier.pendingPayoutTotal]
                        .map { $0?.minorUnits ?? 0 }
                    tally.inputRows += 1
                    let key = CashierKey(websiteID: website, customerID: customer, currency: code)
                    let tkey = TotalsKey(websiteID: website, currency: code)
                    var totals = tally.totals[tkey] ?? TotalsAccumulator(exponent: currency.exponent)
                    totals.inputRows += 1
                    for i in 0..<3 { totals.input[i] += Int128(expected[i]) }
                    if row.state == .done {
                        totals.sentRows += 1
                        for i in 0..<3 { totals.sent[i] += Int128(expected[i]) }
                        if depositTerms {
                            tally.doneRows.append(DoneRow(key: key, rowID: row.id, exponent: currency.exponent,
                                                          cashierID: row.cashierID, depositRequestID: row.depositRequestID,
                                                          terms: request.deposit))
                        }
                    }
                    tally.totals[tkey] = totals
                    // The cashier: the latest row of the run for this key that has one.
                    if let cashierID = row.cashierID, !superseded.contains(row.id) {
                        cashiers.append(ExpectedCashier(key: key, rowID: row.id, exponent: currency.exponent,
                                                        cashierID: cashierID, expected: expected, stored: stored[row.id],
                                                        opening: created[row.id]?.figures.httpStatus == 201
                                                            || Reconciler.madeSince(unanswered[row.id], stored[row.id]?.figures.cashierCreatedAt)))
                    }
                }
                tally.cashiers += cashiers.count
                return cashiers
            }
            return nil
        }
    }

    /// The pages of run `runID`, and a tally that knows the baseline's open breaks.
    func start(_ runID: Int64, depositTerms: Bool) throws -> (CashierPages, Tally) {
        guard try ledger.run(id: runID) != nil else { throw LedgerError.noSuchRun(runID) }
        var tally = Tally()
        if let (previous, breaks) = try ledger.baseline(beforeRunID: runID) {
            tally.baselineRunID = previous
            tally.baseline = breaks
        }
        for b in tally.baseline where b.isOpen {
            tally.baselineCashiers.insert(CashierKey(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency))
        }
        return (CashierPages(reconciler: self, runID: runID, depositTerms: depositTerms, batches: try ledger.batches(runID: runID)), tally)
    }

    /// Whether Rebilly created the cashier at or after `post`, to the whole second (Rebilly's
    /// createdTime carries no fraction).
    static func madeSince(_ start: Date?, _ created: Date?) -> Bool {
        guard let start, let created else { return false }
        return created.timeIntervalSince1970 >= start.timeIntervalSince1970.rounded(.down)
    }

    func accountingCheck(runID: Int64, batch: BatchRecord) throws -> BatchAccountingCheck {
        let a = try ledger.accounting(runID: runID, batchID: batch.id)
        var problems: [String] = []
        if !batch.isStaged {
            problems.append("staging did not finish: \(a.read) rows in the ledger, the file's row count is unknown")
        } else if batch.rowCount != a.read {
            problems.append("\(batch.rowCount) records read from the file but \(a.read) rows in the ledger")
        }
        if a.unfinished > 0 {
            let why = batch.controlVerdict == .mismatch ? " (batch refused: control totals did not match)" : ""
            problems.append("\(a.unfinished) row\(a.unfinished == 1 ? "" : "s") unfinished (pending or cashier_created)\(why)")
        }
        let parts = a.done + a.skippedDone + a.rejected + a.failed + a.inDoubt + a.needsReview + a.unfinished
        if parts != a.read {
            problems.append("the states add up to \(parts), not \(a.read)")
        }
        return BatchAccountingCheck(
            batchID: batch.id, sha256: batch.sha256, path: batch.path, read: batch.isStaged ? batch.rowCount : a.read,
            staged: a.read, done: a.done, skipped: a.skippedDone, rejected: a.rejected, failed: a.failed,
            inDoubt: a.inDoubt, unfinished: a.unfinished, holds: problems.isEmpty, problems: problems)
    }

    // MARK: - Read-back

    /// What Rebilly answered for one cashier.
    enum ReadBack: Sendable {
        case found(CashierResult)
        /// 404 or another 4xx: Rebilly does not hold it.
        case notFound(status: Int, message: String)
        /// Retries exhausted.
        case failed(String)
        /// The command is stopping.
        case stopped
    }

    /// Rebilly's figures to compare with, and where they came from.
    struct Observation {
        /// nil: Rebilly does not hold the cashier (every figure is a break).
        var figures: RemoteFigures?
        var source: FigureSource
        var detail: String?
    }

    // MARK: - Deposit requests

    /// What the deposit check has gathered so far, a page of rows at a time.
    struct DepositCheck {
        var checks = DepositRequestChecks(checkedRows: 0, matched: 0, missing: 0, duplicated: 0, notApplicable: 0, unverified: 0)
        /// Current deposit breaks (lifecycle not yet decided).
        var findings: [Finding] = []
        /// The baseline's cashiers with open breaks, and those whose deposit requests were looked at.
        let baseline: Set<CashierKey>
        var checkedBaseline = Set<CashierKey>()
        /// Cashiers whose deposit requests could not be listed, with their cashier id.
        var unlisted: [CashierKey: String?] = [:]
        /// In bulk, each website's night (case-folded websiteId): listed, or failed.
        var nights: [String: NightListing] = [:]

        init(baseline: Set<CashierKey>) { self.baseline = baseline }
    }

    enum NightListing {
        /// In the scratch file; the server's clock minus this machine's, when measured.
        case listed(serverClockOffset: Double?)
        case failed
    }

    /// A done row with a recorded deposit request, its window as the ownership rule reads it.
    struct DepositCheckRow {
        var row: DoneRow
        var recorded: String
        var window: DepositOwnership.Row
        /// The row's deposit POSTs that were answered, lost or left in flight.
        var mayHaveCreated: Int
        /// The window has both ends (a deposit POST and a last call), so a night's listing covers it.
        var bounded: Bool { !window.posts.isEmpty && window.lastCall != nil }
    }

    /// Lists each website's night, over the window of its done rows' deposit calls, into `scratch`.
    /// A listing that fails leaves its website's rows unverified; a stop ends the listings.
    func listNights(_ batches: [BatchRecord], into state: inout DepositCheck, scratch: DepositListingScratch,
                    gateway: RebillyGateway) async throws {
        var websites: [String: (websiteID: String, from: Date, to: Date)] = [:]
        for batch in batches where batch.controlVerdict != .mismatch {
            for window in try ledger.depositWindows(batchID: batch.id) {
                let site = DepositListingScratch.fold(window.websiteID)
                websites[site] = websites[site].map { (websiteID: $0.websiteID, from: min($0.from, window.from), to: max($0.to, window.to)) }
                    ?? window
            }
        }
        for (site, span) in websites.sorted(by: { $0.key < $1.key }) {
            switch try await listNight(websiteID: span.websiteID, from: span.from, to: span.to, gateway: gateway, into: scratch) {
            case let .succeeded(night): state.nights[site] = .listed(serverClockOffset: night.serverClockOffset)
            case .stopped: return
            default: state.nights[site] = .failed
            }
        }
    }

    /// Checks one page's done rows: each row's deposit requests (its night's, from the scratch
    /// file, or its customer's, listed now) against its window by the one ownership rule.
    func checkDeposits(_ doneRows: [DoneRow], into state: inout DepositCheck, scratch: DepositListingScratch?,
                       gateway: RebillyGateway) async throws {
        guard let low = doneRows.map(\.rowID).min(), let high = doneRows.map(\.rowID).max() else { return }
        let calls = try ledger.depositCalls(rows: low...high)

        // Each row's window by the one ownership rule (its first deposit POST to its last deposit
        // call): a request of the same customer from an earlier or a LATER night is not this
        // row's, even when an old run is reconciled after newer ones.
        var rows: [DepositCheckRow] = []
        for row in doneRows.sorted(by: { $0.rowID < $1.rowID }) {
            guard let recorded = row.depositRequestID else { state.checks.notApplicable += 1; continue }
            let depositCalls = calls[row.rowID] ?? []
            let posts = depositCalls.filter { $0.operation == .createDepositRequest }
            let window = DepositOwnership.Row(
                customerId: row.key.customerID, websiteId: row.key.websiteID, currency: row.key.currency,
                terms: row.terms ?? DepositRequestSpec(), posts: posts.map(\.requestedAt).sorted(),
                lastCall: depositCalls.map { $0.finishedAt ?? $0.requestedAt }.max(), rowID: row.rowID)
            // Requests the job may have made: its POSTs that were answered or lost. An exact match
            // beyond those is another client's copy, counted as foreign, not as a duplicate.
            let mayHaveCreated = max(1, posts.filter { $0.outcome == .succeeded || $0.outcome == .lost || $0.outcome == .inFlight }.count)
            rows.append(DepositCheckRow(row: row, recorded: recorded, window: window, mayHaveCreated: mayHaveCreated))
        }

        // In bulk, a bounded row's requests come from its night; a row whose window has no end
        // (no deposit POST recorded) and the per-customer mode list its customer.
        let bulk = depositListing == .bulk && scratch != nil
        let keys = Set(rows.filter { bulk && $0.bounded }.map { DepositListingScratch.key(customerID: $0.row.key.customerID, websiteID: $0.row.key.websiteID) })
        let night = try scratch?.requests(keys: keys) ?? [:]
        var customers: [String: (items: [DepositRequest], serverClockOffset: Double?)?] = [:]   // websiteId␟customerId
        for r in rows {
            let row = r.row
            var listed: (items: [DepositRequest], serverClockOffset: Double?)?
            if bulk, r.bounded {
                if case let .listed(offset)? = state.nights[DepositListingScratch.fold(row.key.websiteID)] {
                    listed = (night[DepositListingScratch.key(customerID: row.key.customerID, websiteID: row.key.websiteID)] ?? [], offset)
                }
            } else {
                let listKey = row.key.websiteID + "\u{1F}" + row.key.customerID
                if customers[listKey] == nil {
                    switch try await gateway.listDepositRequests(customerId: row.key.customerID, websiteId: row.key.websiteID) {
                    // Every item the customer's filter answered goes to the rule, which checks each.
                    case let .succeeded(found): customers[listKey] = .some((found.items, found.serverClockOffset))
                    case .stopped: return
                    default: customers[listKey] = .some(nil)
                    }
                }
                listed = customers[listKey] ?? nil
            }
            guard let listed else {
                state.checks.unverified += 1
                state.unlisted[row.key] = .some(row.cashierID ?? state.unlisted[row.key] ?? nil)
                continue
            }
            state.checks.checkedRows += 1
            if state.baseline.contains(row.key) { state.checkedBaseline.insert(row.key) }
            let verdict = gateway.ownership.verdict(for: r.window, among: listed.items, serverOffset: listed.serverClockOffset)
            let recorded = r.recorded
            var mine = verdict.matches
            if mine.count > r.mayHaveCreated {
                let recordedFirst = mine.filter { $0.id == recorded } + mine.filter { $0.id != recorded }
                mine = Array(recordedFirst.prefix(r.mayHaveCreated))
            }
            state.checks.foreign += verdict.foreign.count + verdict.nearMisses.count + (verdict.matches.count - mine.count)
            let ids = mine.map(\.id)
            var finding = Finding(key: row.key, field: .depositRequestMissing, exponent: row.exponent, expected: nil,
                                  actual: nil, actualText: nil, rowID: row.rowID, cashierID: row.cashierID,
                                  source: .readBack, detail: nil, countExpected: 1, countActual: mine.count)
            if mine.count == 1, ids[0] == recorded {
                state.checks.matched += 1
                continue
            } else if mine.count > 1 {
                state.checks.duplicated += 1
                finding.field = .depositRequestDuplicate
                finding.detail = "expected 1 deposit request, Rebilly lists \(mine.count): \(ids.joined(separator: ", ")) (recorded \(recorded))"
            } else if mine.isEmpty {
                state.checks.missing += 1
                finding.detail = "expected deposit request \(recorded), Rebilly lists none"
            } else {
                state.checks.missing += 1
                finding.detail = "expected deposit request \(recorded), Rebilly lists \(ids[0]) instead"
            }
            state.findings.append(finding)
        }
    }

    /// A website's deposit requests over the night's window, `from` (the earliest deposit POST)
    /// to `to` (the latest deposit call), on this machine's clock. The window is first widened by
    /// the ownership rule's unmeasured skew, or a minute past its margin, whichever is more; when
    /// the server's clock, measured by the listing, puts a row's window outside it, the listing is
    /// made once more over the measured window. Every row's window lies inside the one listed.
    /// The requests go to `scratch` page by page (only those of the website listed: an item of
    /// another one is not Rebilly's answer to the filter).
    func listNight(websiteID: String, from: Date, to: Date, gateway: RebillyGateway,
                   into scratch: DepositListingScratch) async throws -> RebillyGateway.Outcome<RebillyGateway.ListedNight> {
        let rule = gateway.ownership
        let slack = 60.0
        let wide = max(rule.unmeasuredMarginSeconds, rule.marginSeconds + slack)
        var lower = from.addingTimeInterval(-wide), upper = to.addingTimeInterval(wide)
        let site = DepositListingScratch.fold(websiteID)
        for _ in 0..<2 {
            try scratch.removeWebsite(websiteID)
            let outcome = try await gateway.listDepositRequests(
                websiteId: websiteID, createdFrom: lower, createdTo: Date(timeIntervalSince1970: upper.timeIntervalSince1970.rounded(.up))
            ) { page in
                try scratch.add(page.filter { DepositListingScratch.fold($0.websiteId) == site })
            }
            guard case let .succeeded(listing) = outcome else { return outcome }
            // Where the rule will place the rows' windows, on the server's clock.
            let offset = listing.serverClockOffset ?? 0
            let margin = listing.serverClockOffset == nil ? rule.unmeasuredMarginSeconds : rule.marginSeconds
            let needed = (from.addingTimeInterval(offset - margin), to.addingTimeInterval(offset + margin))
            if needed.0 >= lower, needed.1 <= upper { return outcome }
            lower = min(lower, needed.0.addingTimeInterval(-slack))
            upper = max(upper, needed.1.addingTimeInterval(slack))
        }
        return .exhausted(CallFailure(.decoding(
            message: "the server's clock moved by more than \(Int(slack)) s between two listings of \(websiteID)'s deposit requests",
            status: 200, latency: .zero)))
    }

    // MARK: - Comparing, lifecycle, recording

    /// A difference found now (before its lifecycle is decided).
    struct Finding {
        var key: CashierKey
        var field: BreakField
        var exponent: Int
        var expected: Int64?
        var actual: Int64?
        var actualText: String?
        var rowID: Int64?
        var cashierID: String?
        var source: FigureSource?
        var detail: String?
        /// Deposit breaks: requests expected (1) and found.
        var countExpected: Int? = nil
        var countActual: Int? = nil
        var opening = false
        var canWithdraw: Bool? = nil
    }

    struct BreakKey: Hashable {
        var cashier: CashierKey
        var field: BreakField
    }

    /// Compares one cashier with what Rebilly holds (nil: nothing known, not compared), figure
    /// by figure, into the totals and the findings.
    func compare(_ cashier: ExpectedCashier, _ observation: Observation?, into tally: inout Tally) {
        guard let observation else { return }
        let key = cashier.key
        tally.compared += 1
        if tally.baselineCashiers.contains(key) { tally.comparedBaseline.insert(key) }
        let tkey = TotalsKey(websiteID: key.websiteID, currency: key.currency)
        tally.totals[tkey]?.compared += 1
        if observation.figures?.canWithdraw == false { tally.cannotWithdraw += 1 }
        for (i, figure) in Figure.allCases.enumerated() {
            let expected = cashier.expected[i]
            var actual: Int64?
            var text: String?
            var detail = observation.detail
            if let figures = observation.figures {
                (actual, text) = Self.pick(figure, figures)
                if text == nil {
                    actual = 0  // absent means 0, as in the batch
                } else if actual == nil {
                    detail = "Rebilly reported \(figure.rawValue) \"\(text ?? "")\", not a valid \(key.currency) amount"
                } else if figures.exponent != nil, figures.exponent != cashier.exponent {
                    actual = nil
                    detail = "Rebilly's figures are at exponent \(figures.exponent ?? -1), \(key.currency) has \(cashier.exponent)"
                }
            }
            if let actual {
                let diff = Int128(actual) - Int128(expected)
                tally.totals[tkey]?.rebilly[i] += Int128(actual)
                if cashier.opening {
                    tally.totals[tkey]?.opening[i] += diff
                } else {
                    tally.totals[tkey]?.net[i] += diff
                    tally.totals[tkey]?.gross[i] += diff < 0 ? -diff : diff
                }
                if diff == 0 { continue }
            }
            tally.findings.append(Finding(key: key, field: BreakField(rawValue: figure.rawValue) ?? .balance, exponent: cashier.exponent,
                                          expected: expected, actual: actual, actualText: text, rowID: cashier.rowID,
                                          cashierID: cashier.cashierID, source: observation.source, detail: detail,
                                          opening: cashier.opening, canWithdraw: observation.figures?.canWithdraw))
        }
    }

    /// The result: each finding's lifecycle against the baseline, the baseline's breaks not found
    /// now (resolved when their cashier was looked at, else carried forward), totals and counts.
    func finish(runID: Int64, tally: Tally, deposits: DepositCheck?, method: ReconciliationMethod,
                readBackRequests: Int, readBackFailures: Int) -> ReconciliationReport {
        let now = clock()
        var findings = tally.findings
        if let deposits { findings += deposits.findings }

        var open: [BreakKey: Break] = [:]
        for b in tally.baseline where b.isOpen {
            open[BreakKey(cashier: CashierKey(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency), field: b.field)] = b
        }
        var breaks: [Break] = []
        var seen = Set<BreakKey>()
        for f in findings {
            let bkey = BreakKey(cashier: f.key, field: f.field)
            guard seen.insert(bkey).inserted else { continue }
            breaks.append(Self.makeBreak(f, before: open[bkey], runID: runID, now: now))
        }
        for b in tally.baseline where b.isOpen {
            let bkey = BreakKey(cashier: CashierKey(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency), field: b.field)
            guard seen.insert(bkey).inserted else { continue }
            let checked = b.field.isDepositRequest
                ? deposits?.checkedBaseline.contains(bkey.cashier) ?? false
                : tally.comparedBaseline.contains(bkey.cashier)
            breaks.append(Self.carry(b, resolved: checked))
        }
        breaks.sort(by: Break.order)

        let totals = tally.totals.sorted { ($0.key.websiteID, $0.key.currency) < ($1.key.websiteID, $1.key.currency) }.map { key, t in
            ReconciliationTotals(
                websiteID: key.websiteID, currency: key.currency, exponent: t.exponent, inputRows: t.inputRows,
                sentRows: t.sentRows, comparedCashiers: t.compared,
                figures: Figure.allCases.enumerated().map { i, figure in
                    FigureTotals(figure: figure, exponent: t.exponent, inputMinor: t.input[i], sentMinor: t.sent[i],
                                 rebillyMinor: t.rebilly[i], netDifferenceMinor: t.net[i], grossDifferenceMinor: t.gross[i],
                                 openingDifferenceMinor: t.opening[i])
                })
        }
        let counts = ReconciliationCounts(
            breaks: breaks, inputRows: tally.inputRows, cashiers: tally.cashiers, compared: tally.compared,
            readBackRequests: readBackRequests, readBackFailures: readBackFailures, cannotWithdraw: tally.cannotWithdraw)
        return ReconciliationReport(
            runID: runID, method: method, reconciledAt: now, baselineRunID: tally.baselineRunID, breaks: breaks,
            totals: totals, accounting: tally.accounting, depositChecks: deposits?.checks, counts: counts)
    }

    static func pick(_ figure: Figure, _ f: RemoteFigures) -> (Int64?, String?) {
        switch figure {
        case .balance: (f.balanceMinor, f.balanceText)
        case .bonusBalance: (f.bonusBalanceMinor, f.bonusBalanceText)
        case .pendingPayoutTotal: (f.pendingPayoutTotalMinor, f.pendingPayoutTotalText)
        }
    }

    /// A break found now: new, or persisting when the baseline had it open.
    static func makeBreak(_ f: Finding, before: Break?, runID: Int64, now: Date) -> Break {
        let isCount = f.field.isDepositRequest
        return Break(
            websiteID: f.key.websiteID, customerID: f.key.customerID, currency: f.key.currency, exponent: f.exponent,
            field: f.field, lifecycle: before == nil ? .new : .persisting,
            expectedMinor: isCount ? f.countExpected.map(Int64.init) : f.expected,
            actualMinor: isCount ? f.countActual.map(Int64.init) : f.actual, actualText: f.actualText,
            firstSeenRunID: before?.firstSeenRunID ?? runID, firstSeenAt: before?.firstSeenAt ?? now,
            timesSeen: (before?.timesSeen ?? 0) + 1, rechecked: true, source: f.source, rowID: f.rowID,
            cashierID: f.cashierID, detail: f.detail, opening: f.opening, canWithdraw: f.canWithdraw)
    }

    /// A baseline break not found now: resolved when its cashier was looked at, else carried forward.
    static func carry(_ b: Break, resolved: Bool) -> Break {
        var carried = b
        carried.lifecycle = resolved ? .resolved : .persisting
        carried.rechecked = resolved
        carried.source = nil
        carried.canWithdraw = nil
        if resolved {
            carried.detail = b.field.isDepositRequest
                ? "resolved: exactly one deposit request now" : "resolved: Rebilly's figure now agrees with the batch"
        } else {
            // Carried forward night after night, the detail keeps what was found, once.
            let prefix = "carried forward: not checked again by this run"
            var found: Substring? = b.detail.map { Substring($0) }
            if let text = found, text.hasPrefix(prefix) {
                let rest = text.dropFirst(prefix.count)
                found = rest.hasPrefix("; was: ") ? rest.dropFirst("; was: ".count) : nil
            }
            carried.detail = prefix + (found.map { "; was: \($0)" } ?? "")
        }
        return carried
    }
}

/// `reconcile` stopped before it could compare (401/403, a signal): nothing was recorded.
public struct ReconciliationStopped: Error, Sendable, Equatable {
    public var reason: StopReason
}
