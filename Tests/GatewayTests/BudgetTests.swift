import CashierModel
import Foundation
@testable import Gateway
import RebillyClient
import Sandbox
import Testing
import Throttle

/// Two budgets: writes (what Rebilly counts) through the rate limiter, reads through their own
/// gate. A read never waits for a write token, and a 429 on a read pauses reads, not writes.
@Suite(.serialized) struct BudgetTests {
    func gateway(_ sandbox: RunningSandbox, rate: String, readConcurrency: Int = 8) throws -> RebillyGateway {
        let client = RebillyClient(configuration: try RebillyConfiguration(baseURL: sandbox.baseURL, apiKey: try APIKey(sandbox.apiKey)))
        var settings = GatewaySettings(rate: try RateSpec(parsing: rate), maxAttempts: 3)
        settings.readConcurrency = readConcurrency
        settings.backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(5))
        return RebillyGateway(client: client, settings: settings, control: RunControl())
    }

    /// The write budget is spent (one write an hour, used) and a second write waits for its
    /// token: 20 reads go meanwhile, and the write is still waiting after them.
    @Test func readsNeverWaitForAWriteToken() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let gateway = try gateway(sandbox, rate: "1/h")
        let client = gateway.client
        let created = try await gateway.call { () async throws(RebillyError) -> CashierResult in
            try await client.createCashier(body: #"{"websiteId":"web_1","customerId":"cus_1","currency":"USD"}"#)
        }
        guard case let .succeeded(cashier) = created else { Issue.record("\(created)"); return }
        let write = Task {
            try await gateway.call { () async throws(RebillyError) -> CashierResult in
                try await client.createCashier(body: #"{"websiteId":"web_1","customerId":"cus_2","currency":"USD"}"#)
            }
        }
        while await gateway.limiterStatus.waiting == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let read = try await gateway.call(budget: .read) { () async throws(RebillyError) -> CashierResult in
                        try await client.getCashier(id: cashier.id)
                    }
                    guard case .succeeded = read else { throw BudgetTestError(text: "\(read)") }
                }
            }
            try await group.waitForAll()
        }
        let stillWaiting = await gateway.limiterStatus.waiting
        write.cancel()
        _ = try? await write.value
        let stats = try await sandboxStats(sandbox)
        await gateway.shutdown()
        await sandbox.stop()
        #expect(stillWaiting == 1, "the write still waits for its token after the 20 reads")
        #expect(stats["requests"]?["GetCashier"]?["200"] == .number("20"))
        #expect(stats["requests"]?["PostCashier"]?["201"] == .number("1"), "the second write was never sent")
    }

    /// A sandbox limiting non-GETs to 1 per 8 s answers a second write with 429 and names its
    /// instant: the writes pause until then, the reads made during the pause do not.
    @Test func aWrite429PausesWritesNotReads() async throws {
        var config = SandboxConfiguration()
        config.rate = SandboxRate(limit: 1, period: .seconds(8))
        let sandbox = try await SandboxServer.start(config)
        let gateway = try gateway(sandbox, rate: "100/s")
        let client = gateway.client
        _ = try await client.createCashier(body: #"{"websiteId":"web_1","customerId":"cus_1","currency":"USD"}"#)
        let write = Task {
            try await gateway.call { () async throws(RebillyError) -> CashierResult in
                try await client.createCashier(body: #"{"websiteId":"web_1","customerId":"cus_2","currency":"USD"}"#)
            }
        }
        while await gateway.limiterStatus.pausedUntil == nil { try await Task.sleep(for: .milliseconds(5)) }
        var reads = 0
        for _ in 0..<3 {
            let read = try await gateway.call(budget: .read) { () async throws(RebillyError) -> DepositRequestPage in
                try await client.listDepositRequests(customerId: "cus_1", websiteId: "web_1")
            }
            if case .succeeded = read { reads += 1 }
        }
        let pausedAfterReads = await gateway.limiterStatus.pausedUntil != nil
        let written = try await write.value
        let stats = try await sandboxStats(sandbox)
        await gateway.shutdown()
        await sandbox.stop()
        guard case .succeeded = written else { Issue.record("\(written)"); return }
        #expect(reads == 3)
        #expect(pausedAfterReads, "three reads went while the writes were paused")
        #expect(stats["rateLimited"] == .number("1"))
    }
}

struct BudgetTestError: Error { var text: String }
