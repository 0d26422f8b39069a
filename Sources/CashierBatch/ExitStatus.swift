import ArgumentParser

/// The documented exit codes (README "Exit codes"); cron and monitoring read them.
enum ExitStatus: Int32 {
    case clean = 0
    case rowsRejectedOrFailed = 3
    case reconciliationBreaks = 4
    case usage = 64
    case badBatch = 65
    case apiUnavailable = 69
    case internalError = 70
    case locked = 75
    case credentialsRefused = 77
    case interrupted = 130
    case terminated = 143

    var exitCode: ExitCode { ExitCode(rawValue) }
}
