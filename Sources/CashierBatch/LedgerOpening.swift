import ArgumentParser
import BatchRun
import Foundation
import Ledger

/// Opens a command's ledger, or ends the command with one line saying which file is wrong
/// and what to do: exit 66 when a read-only command finds no ledger, 74 for any other fault.
func openLedger(_ path: String, access: Ledger.Access, quickCheck: Bool = false,
                report: (String) -> Void = { Terminal.err("error: \($0)") }) throws -> Ledger {
    do {
        return try Ledger(path: path, access: access, quickCheck: quickCheck)
    } catch {
        report(error.description)
        throw RunVerdict.for(error).exitCode
    }
}

extension RunVerdict {
    /// The exit code of a ledger fault.
    static func `for`(_ fault: LedgerFault) -> RunVerdict {
        fault.cause == .missing ? .noInput : .ledgerUnusable
    }
}

/// Runs a read of the ledger; an SQLite error about the file (damaged, unreadable) ends the
/// command with 74 and one line instead of an internal error.
func readingLedger<T>(_ path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        guard let fault = LedgerFault.classify(error, path: path) else { throw error }
        Terminal.err("error: \(fault.description)")
        throw RunVerdict.for(fault).exitCode
    }
}

/// The start of a small command that changes an existing ledger (`resolve`, `prune`): exit 66
/// when there is no ledger at `path`, 75 while a run holds it; else the lock, held until released.
func lockExistingLedger(_ path: String, then action: String) throws -> RunLock {
    guard FileManager.default.fileExists(atPath: path) else {
        Terminal.err("error: there is no ledger at \(path); give the night's --db")
        throw RunVerdict.noInput.exitCode
    }
    do { return try RunLock(ledgerPath: path) } catch let held as RunLock.Held {
        Terminal.err("error: \(held.description); wait for it to finish, then \(action)")
        throw RunVerdict.locked.exitCode
    } catch let fault as LedgerFault {
        Terminal.err("error: \(fault.description)")
        throw RunVerdict.ledgerUnusable.exitCode
    }
}
