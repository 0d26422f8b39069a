import AsyncHTTPClient
import BatchRun
import CashierModel
import Foundation
import Gateway
import Ledger
import RebillyClient
import Sandbox
import Testing
import Throttle

/// A ledger in a temporary directory with one run and one staged batch of valid rows.
struct StagedLedger {
    let dir: URL
    let ledger: Ledger
    let runID: Int64
    let batchID: Int64

    init(rows: Int, currency: String = "USD", customerPrefix: String = "cus_") throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cb-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        ledger = try Ledger(path: dir.appendingPathComponent("ledger.sqlite").path)
        runID = try ledger.beginRun(command: "run")
        let sha = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() + "00000000000000000000000000000000"
        let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: String(sha.prefix(64)), path: "t.csv", format: .csv), runID: runID)
        batchID = batch.id
        var staged: [StagedRow] = []
        for i in 0..<rows {
            var raw = RawRecord(line: i + 2)
            raw[.websiteId] = .text("web_1")
            raw[.customerId] = .text("\(customerPrefix)\(i)")
            raw[.currency] = .text(currency)
            raw[.balance] = .text("10\(i).50")
            raw[.pendingPayoutTotal] = .text("1.05")
            raw[.depositAmounts] = .text("10;20")
            let verdict = RowValidator().validate(raw)
            guard case .valid = verdict else { fatalError("test row invalid") }
            staged.append(StagedRow(raw, verdict))
        }
        try ledger.stageRows(batchID: batchID, rows: staged)
    }

    func cleanup() { try? FileManager.default.removeItem(at: dir) }
}

/// A client for the sandbox's own inspection endpoints.
struct SandboxProbe {
    let sandbox: RunningSandbox

    func stats() async throws -> JSONValue {
        var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/stats")
        request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONParser.parse(Array(body.readableBytesView))
    }

    func int(_ json: JSONValue, _ key: String) -> Int? { json[key]?.numberText.flatMap { Int($0) } }
}

/// A gateway to the sandbox: fast backoff, a rate that never waits unless a test asks for one.
func makeGateway(_ sandbox: RunningSandbox, apiKey: String? = nil, attempts: Int = 8, settle: Double = 0.2,
                 rate: String = "100000/s", control: RunControl = RunControl()) throws -> RebillyGateway {
    let config = try RebillyConfiguration(baseURL: sandbox.baseURL, apiKey: try APIKey(apiKey ?? sandbox.apiKey))
    var settings = GatewaySettings(rate: try RateSpec(parsing: rate), maxAttempts: attempts, inDoubtSettleSeconds: settle)
    settings.backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(20))
    return RebillyGateway(client: RebillyClient(configuration: config), settings: settings, control: control)
}

func fastPolicy(concurrency: Int = 8) -> SendPolicy {
    SendPolicy(deposits: true, concurrency: concurrency)
}
