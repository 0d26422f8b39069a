import ArgumentParser

/// The documented exit codes (README "Exit codes"); cron and monitoring read them.
enum ExitStatus: Int32 {
    case clean = 0
    case rowsRejectedOrFailed = 3
    case reconciliationBreaks = 4
    case usage = 64
    case badBatch = 65
    case noInput = 66
    case apiUnavailable = 69
    case internalError = 70
    case ioError = 74
    case locked = 75
    case credentialsRefused = 77
    case interrupted = 130
    case terminated = 143

    var exitCode: ExitCode { ExitCode(rawValue) }
}

extension ExitStatus {
    /// One line for a monitoring ping or a log: what the exit code means.
    static func meaning(of code: Int32) -> String {
        switch ExitStatus(rawValue: code) {
        case .clean?: "clean"
        case .rowsRejectedOrFailed?: "finished with rejected or failed rows"
        case .reconciliationBreaks?: "finished with reconciliation breaks"
        case .usage?: "usage error"
        case .badBatch?: "bad batch"
        case .noInput?: "an input file or the ledger does not exist or cannot be opened"
        case .apiUnavailable?: "API unavailable after retries"
        case .internalError?: "internal error"
        case .ioError?: "the ledger or the reports could not be read or written"
        case .locked?: "another run holds the ledger lock"
        case .credentialsRefused?: "credentials refused by the API"
        case .interrupted?: "interrupted (SIGINT)"
        case .terminated?: "terminated (SIGTERM)"
        case nil: "failed"
        }
    }
}
