import ArgumentParser
import BatchRun
import Foundation
import Ledger

/// Opens a command's ledger, or ends the command with one line saying which file is wrong
/// and what to do: exit 66 when a read-only command finds no ledger, 74 for any other fault.
func openLedger(_ path: String, access: Ledger.Access, quickCheck: Bool = false,
                report: (String) -> Void = { FileHandle.standardError.write(Data("error: \($0)\n".utf8)) }) throws -> Ledger {
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
        FileHandle.standardError.write(Data("error: \(fault.description)\n".utf8))
        throw RunVerdict.for(fault).exitCode
    }
}
