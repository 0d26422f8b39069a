import CashierModel
import Foundation

/// Errors thrown by the ledger itself (GRDB's `DatabaseError` passes through for SQLite errors).
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The row does not exist.
    case noSuchRow(Int64)
    /// The attempt does not exist.
    case noSuchAttempt(Int64)
    /// The run does not exist.
    case noSuchRun(Int64)
    /// The batch does not exist.
    case noSuchBatch(Int64)
    /// The row is in a state that does not allow this move (e.g. `done` → `pending`).
    case illegalTransition(rowID: Int64, from: RowState, to: RowState)
    /// The row's state forbids this API call (a create on a `done`/`rejected` row,
    /// or a deposit-request create on an unverified `in_doubt` row).
    case sendRefused(rowID: Int64, state: RowState, operation: AttemptOperation)
    /// The options JSON given to ``Ledger/beginRun(command:optionsJSON:)`` names a secret.
    case secretInOptions(key: String)
    /// The options JSON is not a JSON object.
    case invalidOptionsJSON
    /// The ledger file could not be created or protected.
    case fileSetup(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .noSuchRow(let id): "ledger: no row \(id)"
        case .noSuchAttempt(let id): "ledger: no attempt \(id)"
        case .noSuchRun(let id): "ledger: no run \(id)"
        case .noSuchBatch(let id): "ledger: no batch \(id)"
        case .illegalTransition(let id, let from, let to):
            "ledger: row \(id) cannot go from \(from.rawValue) to \(to.rawValue)"
        case .sendRefused(let id, let state, let operation):
            "ledger: row \(id) is \(state.rawValue); refusing to record \(operation.rawValue)"
        case .secretInOptions(let key): "ledger: options must not contain secrets (key \"\(key)\")"
        case .invalidOptionsJSON: "ledger: options must be a JSON object"
        case .fileSetup(let path, let err): "ledger: cannot set up \(path): \(String(cString: strerror(err)))"
        }
    }
}
