import ArgumentParser
import BatchRun
import BuildInfo
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `cashier-batch` root command: a nightly batch job that pushes customer
/// batches into Rebilly's cashier API and keeps a ledger of every row.
@main
struct CashierBatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cashier-batch",
        abstract: "Create Rebilly cashiers and deposit requests from customer batches, with a ledger and reports.",
        version: Build.current.line,
        subcommands: [DemoCommand.self, RunCommand.self, RetryCommand.self, ReconcileCommand.self, RunsCommand.self, ResolveCommand.self, AcceptCommand.self, PruneCommand.self, ReportCommand.self, ValidateCommand.self, SandboxCommand.self]
    )

    /// Expands `run --job FILE` and `CASHIER_BATCH_*` variables into arguments, then parses.
    static func main() async {
        // A file-size limit (ulimit -f) makes a write fail with EFBIG, which the ledger reports
        // like a full disk, instead of killing the process with no word.
        signal(SIGXFSZ, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            await main(try JobConfig.rewrite(arguments, environment: ProcessInfo.processInfo.environment))
        } catch {
            Terminal.err("Error: \(error)")
            Foundation.exit(RunVerdict.usage.rawValue)
        }
    }
}
