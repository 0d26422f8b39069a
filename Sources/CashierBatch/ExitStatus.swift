import ArgumentParser
import BatchRun

extension RunVerdict {
    /// The process exit code (the one table is ``RunVerdict``).
    var exitCode: ExitCode { ExitCode(rawValue) }
}
