import AsyncHTTPClient
import CashierModel
import Foundation
import Sandbox
import Testing

/// `(path, body)` of every ping the sandbox's `/_sandbox/ping/…` recorder received.
private func pings(_ sandbox: RunningSandbox) async throws -> [(path: String, body: String)] {
    var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/pings")
    request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 1 << 20)
    let document = try JSONParser.parse(Array(body.readableBytesView))
    return (document["pings"]?.arrayValue ?? []).map { ($0["path"]?.stringValue ?? "", $0["body"]?.stringValue ?? "") }
}

/// `--ping-url`: Healthchecks-style start / success / fail pings around `run`, over loopback.
@Suite(.serialized) struct PingCLITests {
    @Test func aCleanRunPingsStartThenSuccessWithItsCounts() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 5)
        let pingURL = sandbox.baseURL + "/_sandbox/ping/nightly-check-uuid"
        let run = try await runCLI(runArgs(sandbox, dir, [batch, "--ping-url", pingURL]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let received = try await pings(sandbox)
        await sandbox.stop()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(received.map(\.path) == ["nightly-check-uuid/start", "nightly-check-uuid"])
        #expect(received.first?.body == "cashier-batch run started")
        #expect(received.last?.body == "exit 0\ncashier-batch run: clean\nrun 1: done 5, invalid 0, rejected by the API 0, failed 0, in doubt 0, not taken 0, refused batches 0")
        // The ping URL is a credential: neither the log nor the ledger holds its path.
        #expect(!run.stderr.contains("nightly-check-uuid"))
        let ledger = try Data(contentsOf: URL(fileURLWithPath: dir.path("ledger.sqlite")))
        #expect(ledger.range(of: Data("nightly-check-uuid".utf8)) == nil)
    }

    @Test func rejectedRowsPingFailWithTheExitCodeAndTheEnvironmentGivesTheURL() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let bad = try dir.write("bad.csv", "websiteId,customerId,currency,balance\nweb_1,cus_ok,USD,1.00\nweb_1,cus_bad,USD,1e3\n")
        let env = ["REBILLY_API_KEY": sandbox.apiKey, "CASHIER_BATCH_PING_URL": sandbox.baseURL + "/_sandbox/ping/abc"]
        let run = try await runCLI(runArgs(sandbox, dir, [bad]), environment: env)
        let received = try await pings(sandbox)
        await sandbox.stop()
        #expect(run.status == 3, "\(run.stderr)")
        #expect(received.map(\.path) == ["abc/start", "abc/fail"])
        #expect(received.last?.body.hasPrefix("exit 3\ncashier-batch run: finished with rejected or failed rows\nrun 1: done 1, invalid 1, rejected by the API 0, failed 0,") == true,
                "\(received.last?.body ?? "-")")
    }

    @Test func anUndeliverablePingIsLoggedAndNeverChangesTheExitCode() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 3)
        // Not a ping path: the sandbox refuses it (4xx, which is not retried).
        let run = try await runCLI(runArgs(sandbox, dir, [batch, "--ping-url", sandbox.baseURL + "/_sandbox/no-such-check"]),
                                   environment: ["REBILLY_API_KEY": sandbox.apiKey])
        await sandbox.stop()
        #expect(run.status == 0, "\(run.stderr)")
        let warnings = run.stderr.split(separator: "\n").filter { $0.contains("monitoring ping not delivered") }
        #expect(warnings.count == 2, "\(run.stderr)")
        #expect(warnings.allSatisfy { $0.contains("reason=\"HTTP 401\"") || $0.contains("reason=HTTP") }, "\(warnings)")
        #expect(!run.stderr.contains("no-such-check"))
    }

    @Test func aPingURLThatIsNotHTTPIsAUsageError() async throws {
        let run = try await runCLI(["run", "--ping-url", "ftp://hc.example/x", "SampleData/customers.csv"])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--ping-url must be an absolute http:// or https:// URL"), "\(run.stderr)")
    }
}
