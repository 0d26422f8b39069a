import AsyncHTTPClient
import CashierModel
import Foundation
import Gateway
import NIOCore
import RebillyClient
import Sandbox
import Testing
import Throttle

/// A website's deposit requests over a createdTime window, keyset-paged past Rebilly's offset
/// limit, over a socket against the sandbox.
@Suite(.serialized) struct KeysetListingTests {
    static let second = Date(timeIntervalSince1970: 1_784_600_000)  // 2026-07-21, a whole second

    func gateway(_ sandbox: RunningSandbox) throws -> RebillyGateway {
        let client = RebillyClient(configuration: try RebillyConfiguration(baseURL: sandbox.baseURL, apiKey: try APIKey(sandbox.apiKey)))
        var settings = GatewaySettings(rate: try RateSpec(parsing: "100000/s"), maxAttempts: 2)
        settings.backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(5))
        return RebillyGateway(client: client, settings: settings, control: RunControl())
    }

    /// `count` deposit requests of other clients on `website`, created at `second + offset` (plus
    /// a fraction, which Rebilly does not keep), eight at a time; their ids. `customer`: all of
    /// that customer (default: one customer each).
    func seed(_ sandbox: RunningSandbox, website: String = "web_1", customer: String? = nil, count: Int, at offset: Int,
              fraction: Double = 0.25) async throws -> [String] {
        let stamp = (Self.second.addingTimeInterval(Double(offset) + fraction)).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        return try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var ids: [String] = []
                    for i in stride(from: worker, to: count, by: 8) {
                        var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/deposit-requests")
                        request.method = .POST
                        request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
                        request.headers.add(name: "Content-Type", value: "application/json")
                        let who = customer ?? "cus_\(offset)_\(i)"
                        request.body = .bytes(ByteBuffer(string: #"{"websiteId":"\#(website)","customerId":"\#(who)","currency":"USD","createdTime":"\#(stamp)"}"#))
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                        let json = try JSONParser.parse(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
                        guard response.status.code == 201, let id = json["id"]?.stringValue else { throw ListingTestError(text: "seed: \(json)") }
                        ids.append(id)
                    }
                    return ids
                }
            }
            var all: [String] = []
            for try await ids in group { all += ids }
            return all
        }
    }

    static func listCalls(_ stats: JSONValue) -> Int {
        stats["requests"]?["GetDepositRequestCollection"]?["200"]?.numberText.flatMap(Int.init) ?? 0
    }

    func window(_ from: Double, _ to: Double) -> ClosedRange<Date> {
        Self.second.addingTimeInterval(from)...Self.second.addingTimeInterval(to)
    }

    /// 300 requests a second before, 900 in one second, 400 the second after and 700 the one after
    /// that: pages of 1,000 sorted by createdTime alone. Each page after a full one starts at its
    /// last second, read whole again (Rebilly orders a second as it likes), its ids already handed
    /// over skipped: four GETs, every request once.
    @Test func pagesByTheSecondPastTheOffsetLimit() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let before = try await seed(sandbox, count: 300, at: -1)
        let crowd = try await seed(sandbox, count: 900, at: 0)
        let after = try await seed(sandbox, count: 400, at: 1)
        let later = try await seed(sandbox, count: 700, at: 2)
        _ = try await seed(sandbox, website: "web_2", count: 40, at: 0)   // another website
        _ = try await seed(sandbox, count: 30, at: 30)                    // after the window
        let gateway = try gateway(sandbox)
        var items: [DepositRequest] = []
        let outcome = try await gateway.listDepositRequests(.init(websiteId: "WEB_1", window: window(-5, 5))) { items += $0 }
        await gateway.shutdown()
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        guard case let .succeeded(count) = outcome else { Issue.record("\(outcome)"); return }
        #expect(items.count == 2_300 && count == 2_300)
        #expect(Set(items.map(\.id)) == Set(before + crowd + after + later))
        #expect(Set(items.map(\.id)).count == 2_300, "no request twice")
        #expect(items.allSatisfy { $0.websiteId == "web_1" })
        #expect(Self.listCalls(stats) == 4)
    }

    /// Exactly 1,000 in the window: the full first page reaches the filter's total, so it is the last.
    @Test func aFullPageThatReachesTheTotalIsTheLast() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let ids = try await seed(sandbox, count: 1_000, at: 0)
        let gateway = try gateway(sandbox)
        var items: [DepositRequest] = []
        let outcome = try await gateway.listDepositRequests(.init(websiteId: "web_1", window: window(0, 0))) { items += $0 }
        await gateway.shutdown()
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        guard case let .succeeded(count) = outcome else { Issue.record("\(outcome)"); return }
        #expect(Set(items.map(\.id)) == Set(ids) && items.count == 1_000 && count == 1_000)
        #expect(Self.listCalls(stats) == 1)
    }

    /// 1,000 requests in one second and more after it: a page cannot hold that second whole, so
    /// the listing cannot be completed. It fails (its rows stay unverified or in doubt), never short.
    @Test func aSecondHoldingAWholePageFailsTheListing() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        _ = try await seed(sandbox, count: 1_000, at: 0)
        _ = try await seed(sandbox, count: 10, at: 1)
        let gateway = try gateway(sandbox)
        let outcome = try await gateway.listDepositRequests(.init(websiteId: "web_1", window: window(-1, 1))) { _ in }
        await gateway.shutdown()
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        guard case let .exhausted(failure) = outcome else { Issue.record("\(outcome)"); return }
        #expect(failure.message == "1000 or more of web_1's deposit requests were created in the second 2026-07-21T02:13:20Z: a page cannot hold them all, so the listing cannot be completed", "\(failure.message)")
        #expect(Self.listCalls(stats) == 2)
    }

    /// A customer with 1,100 earlier deposit requests: only the window is listed, by pages of 100
    /// (a row's in-doubt check), so tonight's requests are found however long the history is.
    @Test func aCustomersWindowIsListedWhateverItsHistory() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        for offset in stride(from: -11_000, to: 0, by: 10) { _ = try await seed(sandbox, customer: "cus_long", count: 1, at: offset) }
        let tonight = try await seed(sandbox, customer: "cus_long", count: 60, at: 0) + seed(sandbox, customer: "cus_long", count: 60, at: 2)
        let otherCase = try await seed(sandbox, customer: "CUS_LONG", count: 2, at: 1)
        _ = try await seed(sandbox, customer: "cus_other", count: 5, at: 0)
        let gateway = try gateway(sandbox)
        let outcome = try await gateway.listDepositRequests(.init(websiteId: "web_1", customerId: "cus_long", window: window(-5, 5)), pageSize: 100)
        await gateway.shutdown()
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        guard case let .succeeded(items) = outcome else { Issue.record("\(outcome)"); return }
        // The filter ignores case, as Rebilly's may: the ownership rule, not the listing, tells them apart.
        #expect(Set(items.map(\.id)) == Set(tonight + otherCase) && items.count == 122)
        // 60 + 2 + 38 of second 2, then second 2 whole (60): two GETs.
        #expect(Self.listCalls(stats) == 2)
    }
}

struct ListingTestError: Error { var text: String }
