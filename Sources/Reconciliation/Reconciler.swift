import CashierModel
import Foundation
import Ledger
import Gateway

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
    /// - Parameters:
    ///   - record: Record the reconciliation in the ledger (replacing the run's earlier one). Pass
    ///     `false` to only compute it (a report of a run that recorded none).
    ///   - madeBy: The run making it, when not `runID` itself.
    public func reconcileFromLedger(runID: Int64, record: Bool = true, madeBy: Int64? = nil) throws -> ReconciliationReport {
        var (pages, tally) = try start(runID, depositTerms: false)
        while let cashiers = try pages.next(into: &tally) {
            for cashier in cashiers {
                compare(cashier, cashier.stored.map { Observation(figures: $0.figures, source: $0.source, detail: nil) }, into: &tally)
            }
        }
        var report = finish(runID: runID, tally: tally, deposits: nil, method: .ledger, readBackRequests: 0, readBackFailures: 0)
        report.madeByRunID = madeBy ?? runID
        if record { try store(&report) }
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
    /// `madeBy` is the run making it (the `reconcile` run), when not `runID` itself.
    public func reconcileWithReadBack(runID: Int64, gateway: RebillyGateway, record: Bool = true,
                                      madeBy: Int64? = nil) async throws -> ReconciliationReport {
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
        report.madeByRunID = madeBy ?? runID
        if record { try store(&report) }
        return report
    }

    /// Records `report` and gives each break the id it was recorded under.
    func store(_ report: inout ReconciliationReport) throws {
        let ids = try ledger.recordReconciliation(report)
        for (i, id) in zip(report.breaks.indices, ids) {
            report.breaks[i].id = id
            report.breaks[i].runID = report.runID
        }
    }

    /// Reads one page of cashiers back, at most ``readBackConcurrency`` calls at once.
    func readBack(_ cashiers: [ExpectedCashier], gateway: RebillyGateway) async throws -> [Int64: ReadBack] {
        var read: [Int64: ReadBack] = [:]
        try await withThrowingTaskGroup(of: (Int64, ReadBack).self) { group in
            var iterator = cashiers.makeIterator()
            func addNext() -> Bool {
                guard let target = iterator.next() else { return false }
                guard let id = target.cashierID else { return addNext() }
                let rowID = target.rowID
                group.addTask {
                    let outcome = try await gateway.readCashier(id: id)
                    switch outcome {
                    case let .succeeded(result): return (rowID, .found(result))
                    case let .rowFinal(failure): return (rowID, .notFound(status: failure.status ?? 0, message: failure.message))
                    case let .exhausted(failure): return (rowID, .failed(failure.message))
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

    // MARK: - Read-back

    /// What Rebilly answered for one cashier.
    enum ReadBack: Sendable {
        case found(RebillyGateway.CashierAnswer)
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
}

/// `reconcile` stopped before it could compare (401/403, a signal): nothing was recorded.
public struct ReconciliationStopped: Error, Sendable, Equatable {
    public var reason: StopReason
}
