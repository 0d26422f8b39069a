import Foundation
/// The documented exit codes (README "Exit codes"), the one table every command uses: cron,
/// Kubernetes and monitoring read them. A worse code wins when several apply.
public enum RunVerdict: Int32, Sendable, Comparable, CaseIterable {
    case clean = 0
    case rowsRejectedOrFailed = 3
    case reconciliationBreaks = 4
    /// `--until`: the night stopped at its window's end; rows never started stay pending, for
    /// `retry`. Above 3 and 4 (a night not finished says more than one finished with rejects or
    /// breaks), below every failure of 64 and up.
    case windowClosed = 5
    /// The command cannot be carried out as given (e.g. a shard on another shard's ledger).
    case usage = 64
    case badBatch = 65
    /// An input path cannot be opened (missing, a directory, no permission): nothing was touched.
    case noInput = 66
    case apiUnavailable = 69
    case internalError = 70
    /// The ledger cannot be used or could not record (full disk, I/O error, damaged, not a
    /// ledger), or the reports could not be written.
    case ledgerUnusable = 74
    case locked = 75
    case credentialsRefused = 77
    case interrupted = 130
    case terminated = 143

    public static func < (lhs: RunVerdict, rhs: RunVerdict) -> Bool { lhs.rawValue < rhs.rawValue }

    /// One line for a monitoring ping or a log: what the exit code means.
    public static func meaning(of code: Int32) -> String {
        guard let verdict = RunVerdict(rawValue: code) else { return "failed" }
        switch verdict {
        case .clean: return "clean"
        case .rowsRejectedOrFailed: return "finished with rejected or failed rows"
        case .reconciliationBreaks: return "finished with reconciliation breaks"
        case .windowClosed: return "stopped at the window's end (--until): rows left for retry"
        case .usage: return "usage error"
        case .badBatch: return "bad batch"
        case .noInput: return "an input file or the ledger does not exist or cannot be opened"
        case .apiUnavailable: return "API unavailable after retries"
        case .internalError: return "internal error"
        case .ledgerUnusable: return "the ledger or the reports could not be read or written"
        case .locked: return "another run holds the ledger lock"
        case .credentialsRefused: return "credentials refused by the API"
        case .interrupted: return "interrupted (SIGINT)"
        case .terminated: return "terminated (SIGTERM)"
        }
    }
}

/// One line of a command's log, for the command layer to print (text or JSON).
public struct RunEvent: Sendable {
    public enum Level: String, Sendable { case info, warning, error }
    public var level: Level
    public var message: String
    public var fields: [(String, LogValue)]

    public init(_ level: Level, _ message: String, _ fields: [(String, LogValue)] = []) {
        self.level = level
        self.message = message
        self.fields = fields
    }
}

/// A log field's value, typed so that `--log-format json` writes counts, codes and durations as
/// JSON numbers and flags as booleans (a log shipper can aggregate them); text is text.
public enum LogValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }

    /// A whole number of any integer type.
    public static func int<T: BinaryInteger>(_ value: T) -> LogValue { .integer(Int64(value)) }

    /// The value as a log line shows it (a double with three decimals at most).
    public var description: String {
        switch self {
        case let .string(text): text
        case let .integer(value): String(value)
        case let .double(value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
        case let .bool(value): String(value)
        }
    }
}
