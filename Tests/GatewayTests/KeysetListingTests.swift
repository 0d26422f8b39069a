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
    /// a fraction, which Rebilly does not keep), eight at a time; their ids.
    func seed(_ sandbox: RunningSandbox, website: String = "web_1", count: Int, at offset: Int, fraction: Double = 0.25) async throws -> [String] {
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
                        request.body = .bytes(ByteBuffer(string: #"{"websiteId":"\#(website)","customerId":"cus_\#(offset)_\#(i)","currency":"USD","createdTime":"\#(stamp)"}"#))
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

    /// 300 requests a second before, 1,500 in one second and 400 the second after: the first page
    /// ends 700 into the crowded second, the second starts there at offset 700 and ends 200 into the
    /// next second, the third starts there at offset 200. Three GETs, every request once.
    @Test func pagesPastTheOffsetLimitInsideOneSecond() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let before = try await seed(sandbox, count: 300, at: -1)
        let crowd = try await seed(sandbox, count: 1_500, at: 0)
        let after = try await seed(sandbox, count: 400, at: 1)
        _ = try await seed(sandbox, website: "web_2", count: 40, at: 0)   // another website
        _ = try await seed(sandbox, count: 30, at: 30)                    // after the window
        let gateway = try gateway(sandbox)
        var items: [DepositRequest] = []
        let outcome = try await gateway.listDepositRequests(
            websiteId: "WEB_1", createdFrom: Self.second.addingTimeInterval(-5), createdTo: Self.second.addingTimeInterval(5)) { items += $0 }
        await gateway.shutdown()
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        guard case let .succeeded(listing) = outcome else { Issue.record("\(outcome)"); return }
        #expect(items.count == 2_200 && listing.count == 2_200)
        #expect(Set(items.map(\.id)) == Set(before + crowd + after))
        #expect(Set(items.map(\.id)).count == 2_200, "no request twice")
        #expect(items.allSatisfy { $0.websiteId == "web_1" })
        #expect(listing.serverClockOffset != nil, "the sandbox's Date header was read")
        #expect(Self.listCalls(stats) == 3)
    }

    /// Exactly 1,000 in the window: the full first page reaches the filter's total, so it is the last.
    @Test func aFullPageThatReachesTheTotalIsTheLast() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let ids = try await seed(sandbox, count: 1_000, at: 0)
        let gateway = try gateway(sandbox)
        var items: [DepositRequest] = []
        let outcome = try await gateway.listDepositRequests(
            websiteId: "web_1", createdFrom: Self.second, createdTo: Self.second) { items += $0 }
        await gateway.shutdown()
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        guard case let .succeeded(listing) = outcome else { Issue.record("\(outcome)"); return }
        #expect(Set(items.map(\.id)) == Set(ids) && items.count == 1_000 && listing.count == 1_000)
        #expect(Self.listCalls(stats) == 1)
    }

    /// 2,100 requests in one second: offset 1,000 reads the second thousand, and no offset can
    /// reach the rest. The listing fails (its rows are unverified), it never ends short.
    @Test func aSecondBeyondTheOffsetLimitFailsTheListing() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        _ = try await seed(sandbox, count: 2_100, at: 0)
        let gateway = try gateway(sandbox)
        let outcome = try await gateway.listDepositRequests(
            websiteId: "web_1", createdFrom: Self.second.addingTimeInterval(-1), createdTo: Self.second.addingTimeInterval(1)) { _ in }
        await gateway.shutdown()
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        guard case let .exhausted(failure) = outcome else { Issue.record("\(outcome)"); return }
        #expect(failure.message.contains("2000 or more deposit requests of web_1 created in the second 2026-07-21T"), "\(failure.message)")
        #expect(Self.listCalls(stats) == 2)
    }
}

struct ListingTestError: Error { var text: String }
