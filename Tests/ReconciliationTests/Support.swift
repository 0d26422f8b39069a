import BatchRun
import CashierModel
import Foundation
import Gateway
import Ledger
import RebillyClient
import Reconciliation
import Sandbox
import Testing
import Throttle

/// One batch line: money as text exactly as the operator wrote it (nil = empty cell = absent).
struct Line {
    var website = "web_1"
    var customer: String
    var currency = "USD"
    var balance: String?
    var bonus: String?
    var pending: String?
}

/// A temporary directory holding the ledger and the batch files of a test.
final class Workspace: Sendable {
    let dir: URL
    var ledgerPath: String { dir.appendingPathComponent("ledger.sqlite").path }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cb-recon-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    /// Writes a CSV batch (every row with deposit amounts 10;20) and returns its path.
    func batch(_ name: String, _ lines: [Line], extraLines: [String] = []) throws -> String {
        var text = "websiteId,customerId,currency,balance,bonusBalance,pendingPayoutTotal,deposit.amounts\n"
        for l in lines {
            text += [l.website, l.customer, l.currency, l.balance ?? "", l.bonus ?? "", l.pending ?? "", "10;20"].joined(separator: ",") + "\n"
        }
        for extra in extraLines { text += extra + "\n" }
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func openLedger() throws -> Ledger { try Ledger(path: ledgerPath) }

    func cleanup() { try? FileManager.default.removeItem(at: dir) }
}

/// A sandbox holding these cashiers before the batch runs (JSON Lines, literals kept exactly),
/// and cashiers established yesterday that hold exactly the figures of the batch lines `holding`.
func startSandbox(preload jsonLines: String = "", holding: [Line] = []) async throws -> RunningSandbox {
    var config = SandboxConfiguration()
    config.preload = try PreloadedCashier.load(jsonLines: jsonLines + "\n" + established(holding))
    return try await SandboxServer.start(config)
}

/// Preload lines (JSON Lines) for cashiers created yesterday whose figures are these batch lines'
/// exactly (an empty cell: none, so 0). A create sets no figures, so a cashier the batch should
/// find in agreement with it must already hold them at Rebilly.
func established(_ lines: [Line]) -> String {
    let yesterday = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86_400))
    return lines.map { l in
        var members = [#""customerId":"\#(l.customer)""#, #""websiteId":"\#(l.website)""#, #""currency":"\#(l.currency)""#]
        for (name, value) in [("balance", l.balance), ("bonusBalance", l.bonus), ("pendingPayoutTotal", l.pending)] {
            if let value { members.append(#""\#(name)":\#(value)"#) }
        }
        members.append(#""createdTime":"\#(yesterday)""#)
        return "{" + members.joined(separator: ",") + "}"
    }.joined(separator: "\n")
}

/// The command's one gateway to the sandbox: fast backoff, a rate that does not slow the tests.
func makeGateway(_ sandbox: RunningSandbox, attempts: Int = 6, rate: String = "100000/s",
                 clockTolerance: Double? = nil) throws -> RebillyGateway {
    let client = RebillyClient(configuration: try RebillyConfiguration(baseURL: sandbox.baseURL, apiKey: try APIKey(sandbox.apiKey)))
    var settings = GatewaySettings(rate: try RateSpec(parsing: rate), maxAttempts: attempts, inDoubtSettleSeconds: 0.2)
    if let clockTolerance { settings.clockToleranceSeconds = clockTolerance }
    settings.backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(20))
    return RebillyGateway(client: client, settings: settings, control: RunControl())
}

func fastPolicy() -> SendPolicy { SendPolicy(deposits: true, concurrency: 4) }

/// One night: the real `run` (stage, send through the gateway, reconcile from the ledger).
func runNight(_ workspace: Workspace, files: [String], sandbox: RunningSandbox) async throws -> RunResult {
    let gateway = try makeGateway(sandbox)
    var settings = RunSettings(ledgerPath: workspace.ledgerPath, command: "run", optionsJSON: "{}", policy: fastPolicy(), dryRun: false)
    // These "nights" are seconds apart on one ledger: the same rows again are meant.
    settings.allowRepeat = true
    let nightly = NightlyRun(settings: settings, log: { _ in })
    do {
        let result = try await nightly.run(files: files, gateway: gateway)
        await gateway.shutdown()
        return result
    } catch {
        await gateway.shutdown()
        throw error
    }
}

extension ReconciliationReport {
    func breaks(_ customer: String) -> [Break] { breaks.filter { $0.customerID == customer } }
    func onlyBreak(_ customer: String, _ field: BreakField) -> Break? {
        let found = breaks.filter { $0.customerID == customer && $0.field == field }
        return found.count == 1 ? found[0] : nil
    }
    func totals(_ website: String, _ currency: String) -> ReconciliationTotals? {
        totals.first { $0.websiteID == website && $0.currency == currency }
    }
}
