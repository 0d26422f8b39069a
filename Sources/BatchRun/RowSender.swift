import CashierModel
import Foundation
import Gateway
import Ledger
import Synchronization

/// Sends rows as their ``RowLifecycle`` says, each in a ``RowPass``: its cashier, then its
/// deposit request, each call's intent recorded durably before it is sent and its outcome after
/// the answer, so a crash at any instant loses nothing and a re-run never sends a deposit request
/// twice. A deposit POST without a usable answer leaves the row `in_doubt`: it is parked, and
/// checked by listing (the gateway's ownership rule) once settled.
struct RowSender: Sendable {
    let ledger: Ledger
    /// Group-committed writes: each await returns once the write is durable.
    let writer: LedgerWriter
    let gateway: RebillyGateway
    let policy: SendPolicy
    let runID: Int64
    /// Rows of this pass that went to their deposit request with a known cashier.
    let knownCount = KnownCount()

    /// What the night allows each row.
    var settings: RowLifecycle.Settings {
        RowLifecycle.Settings(deposits: policy.deposits, maxAttempts: gateway.settings.maxAttempts,
                              settleSeconds: gateway.settings.inDoubtSettleSeconds)
    }

    /// One pass of `record`; returns where it stands (ended, or parked until its in-doubt deposit
    /// request has settled) and the row's state in the ledger. `known`: the cashier an earlier
    /// night recorded for the row's customer (``Ledger/knownCashiers(runID:batchID:rows:)``); the
    /// row then makes no `POST /cashiers`.
    func send(_ record: RowRecord, known: KnownCashier? = nil) async throws -> (RowLifecycle.State, RowState) {
        var pass = RowPass(self, record, known: known)
        return try await pass.run()
    }

    /// Deposit requests per page when a row's window is listed (a window holds a few).
    static let inDoubtPageSize = 100
}

/// Rows of a pass that took a known cashier (``RowSender/send(_:known:)``), less those whose
/// cashier was gone and made again.
final class KnownCount: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ n: Int) { value.add(n, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
