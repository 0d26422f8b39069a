import CashierModel
import Foundation
import Gateway
import Ledger

/// One command's life on its ledger, the same for `run`, `retry`, `reconcile` and
/// `validate --db`: take the run lock, open the ledger (identified and `quick_check`ed first),
/// record the run, repair what an earlier run left in flight, run the command's body, and
/// record how it ended.
///
/// A ledger that cannot be used, or that stops recording mid-command, ends it with
/// ``RunVerdict/ledgerUnusable`` and one line naming the file and the fix; the run is
/// recorded `crashed` if the ledger still takes that write (else the next run's recovery
/// does it), and every call it left in flight is checked before any resend.
public struct CommandSession: Sendable {
    public var ledgerPath: String
    /// `run`, `retry`, `reconcile`, `validate`.
    public var command: String
    /// The effective options as JSON, without secrets (recorded with the run).
    public var optionsJSON: String
    public var log: @Sendable (RunEvent) -> Void

    public init(ledgerPath: String, command: String, optionsJSON: String, log: @escaping @Sendable (RunEvent) -> Void) {
        self.ledgerPath = ledgerPath
        self.command = command
        self.optionsJSON = optionsJSON
        self.log = log
    }

    /// How the session ended: the body's value, or the verdict of a session that could not run it.
    public enum End<Value: Sendable>: Sendable {
        case completed(runID: Int64, Value)
        case failed(runID: Int64?, RunVerdict)
    }

    /// Runs `body` inside the session; `verdict` gives the exit code recorded for its value.
    public func perform<Value: Sendable>(
        control: RunControl,
        _ body: (_ ledger: Ledger, _ runID: Int64) async throws -> Value,
        verdict: (Value) -> RunVerdict
    ) async throws -> End<Value> {
        do {
            try Ledger.preflight(path: ledgerPath)
        } catch {
            log(RunEvent(.error, error.description))
            return .failed(runID: nil, .ledgerUnusable)
        }
        let lock: RunLock
        do {
            lock = try RunLock(ledgerPath: ledgerPath)
        } catch let held as RunLock.Held {
            log(RunEvent(.error, held.description + ": wait for it to finish; do not delete the lock"))
            return .failed(runID: nil, .locked)
        } catch let fault as LedgerFault {
            log(RunEvent(.error, fault.description))
            return .failed(runID: nil, .ledgerUnusable)
        } catch {
            log(RunEvent(.error, "\(error): give --db a path in a directory this user can write"))
            return .failed(runID: nil, .ledgerUnusable)
        }
        defer { lock.release() }
        let ledger: Ledger
        let runID: Int64
        let recovery: CrashRecovery
        do {
            ledger = try Ledger(path: ledgerPath, quickCheck: true)
            runID = try ledger.beginRun(command: command, optionsJSON: optionsJSON)
            recovery = try ledger.recoverCrashedRuns(currentRunID: runID)
        } catch {
            guard let fault = LedgerFault.classify(error, path: ledgerPath) else { throw error }
            log(RunEvent(.error, fault.description))
            return .failed(runID: nil, .ledgerUnusable)
        }
        if !recovery.isEmpty {
            log(RunEvent(.warning, "recovered after an unfinished run: its calls in flight are checked before anything is sent again", [
                ("crashedRuns", .string(recovery.crashedRunIDs.map(String.init).joined(separator: ","))),
                ("runsWithCallsInFlight", .string(recovery.runsWithCallsInFlight.map(String.init).joined(separator: ","))),
                ("rowsInDoubt", .int(recovery.rowsMarkedInDoubt)), ("lostAttempts", .int(recovery.lostAttempts)),
            ]))
        }
        let value: Value
        do {
            value = try await body(ledger, runID)
        } catch {
            let fault = LedgerFault.classify(error, path: ledgerPath)
            let ended: RunVerdict = fault == nil ? .internalError : .ledgerUnusable
            try? ledger.finishRun(id: runID, status: .crashed, exitCode: ended.rawValue)
            guard let fault else { throw error }
            log(RunEvent(.error, fault.description))
            return .failed(runID: runID, ended)
        }
        let status: RunStatus
        if case .signal? = control.stopReason { status = .interrupted } else { status = .finished }
        do {
            try ledger.finishRun(id: runID, status: status, exitCode: verdict(value).rawValue)
        } catch {
            guard let fault = LedgerFault.classify(error, path: ledgerPath) else { throw error }
            log(RunEvent(.error, fault.description))
            return .failed(runID: runID, .ledgerUnusable)
        }
        return .completed(runID: runID, value)
    }
}
