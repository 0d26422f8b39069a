import ArgumentParser
import BatchRun
import Monitoring

/// Runs a command's body between the `--ping-url` pings: `/start` before, then the URL itself
/// on exit 0 or `/fail` with the exit code. Without a URL it only runs the body. A ping that
/// cannot be delivered is logged (without the URL, which is a credential) and never changes
/// the exit code.
func withHealthPing(_ ping: HealthPing?, command: String, log: RunLog,
                    _ body: (inout String) async throws -> Void) async throws {
    guard let ping else {
        var ignored = ""
        try await body(&ignored)
        return
    }
    func report(_ what: String, _ outcome: HealthPing.Outcome) {
        if case let .failed(reason) = outcome {
            log(RunEvent(.warning, "monitoring ping not delivered; the run goes on: check --ping-url and that the monitor is reachable", [("ping", .string(what)), ("to", .string(ping.redacted)), ("reason", .string(reason))]))
        }
    }
    report("start", await ping.start(body: "cashier-batch \(command) started"))
    var summary = ""
    let code: Int32
    var failure: (any Error)?
    do {
        try await body(&summary)
        code = 0
    } catch {
        failure = error
        code = RunCommand.exitCode(for: error).rawValue
    }
    let text = "cashier-batch \(command): \(RunVerdict.meaning(of: code))" + (summary.isEmpty ? "" : "\n" + summary)
    report(code == 0 ? "success" : "fail", await ping.finish(exitCode: code, body: text))
    if let failure { throw failure }
}
