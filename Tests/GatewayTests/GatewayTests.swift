import AsyncHTTPClient
import CashierModel
import Foundation
import Gateway
import RebillyClient
import Sandbox
import Testing
import Throttle

/// The one classification of a failed call (moved here from the client: the client reports
/// facts, the gateway decides).
@Suite struct CallFailureTests {
    @Test("classification", arguments: [
        (400, CallFailure.Kind.rowFinal), (401, .stopCommand), (403, .stopCommand), (404, .rowFinal), (408, .retryable),
        (409, .rowFinal), (413, .rowFinal), (422, .rowFinal), (429, .retryable), (500, .retryable), (502, .retryable),
        (503, .retryable), (504, .retryable),
    ])
    func classification(status: Int, expected: CallFailure.Kind) {
        let error = RebillyError.problem(status: status, title: nil, detail: nil, invalidFields: [], rateLimit: .none, latency: .zero)
        #expect(CallFailure(error).kind == expected)
    }

    @Test func whatLeavesADepositPostInDoubt() {
        func failure(_ error: RebillyError) -> CallFailure { CallFailure(error) }
        let lost = RebillyError.transport(kind: .connection, message: "reset", mayHaveBeenApplied: true, latency: .zero)
        let neverSent = RebillyError.transport(kind: .connection, message: "refused", mayHaveBeenApplied: false, latency: .zero)
        func status(_ code: Int) -> RebillyError { .problem(status: code, title: nil, detail: nil, invalidFields: [], rateLimit: .none, latency: .zero) }
        #expect(failure(lost).leavesInDoubt)
        #expect(!failure(neverSent).leavesInDoubt)
        #expect(failure(status(500)).leavesInDoubt && failure(status(503)).leavesInDoubt, "any 5xx: a gateway may have forwarded it")
        #expect(!failure(status(429)).leavesInDoubt && !failure(status(422)).leavesInDoubt && !failure(status(401)).leavesInDoubt)
        #expect(failure(.decoding(message: "bad", status: 201, latency: .zero)).leavesInDoubt)
    }
}

/// The one rule for which listed deposit request is a row's: these cases are also run through
/// `run`, `retry` and `reconcile` over sockets (CashierBatchTests, DepositOwnershipCLITests).
@Suite struct DepositOwnershipTests {
    static let post = Date(timeIntervalSince1970: 1_800_000_000)
    static let rule = DepositOwnership(skewSeconds: 300)
    static let row = DepositOwnership.Row(customerId: "cus_1", websiteId: "web_1", currency: "USD",
                                          firstPost: post, lastCall: post.addingTimeInterval(60))

    static func item(_ id: String, customer: String = "cus_1", website: String = "web_1", currency: String = "USD",
                     created: TimeInterval?) -> DepositRequest {
        DepositRequest(id: id, customerId: customer, websiteId: website, currency: currency,
                       createdTime: created.map { post.addingTimeInterval($0) })
    }

    @Test(arguments: OwnershipCase.table)
    func oneRule(_ c: OwnershipCase) {
        let items = [Self.item("dep_x", customer: c.customer, website: c.website, currency: c.currency, created: c.createdOffset)]
        #expect(Self.rule.owned(by: Self.row, among: items).map(\.id) == (c.owned ? ["dep_x"] : []), "\(c.name)")
    }

    @Test func theOldestComesFirst() {
        let items = [Self.item("dep_b", created: 30), Self.item("dep_a", created: 10), Self.item("dep_c", created: 10)]
        #expect(Self.rule.owned(by: Self.row, among: items).map(\.id) == ["dep_a", "dep_c", "dep_b"])
    }

    @Test func aRowWithoutPostsHasNoLowerBound() {
        var row = Self.row
        row.firstPost = nil
        #expect(Self.rule.owned(by: row, among: [Self.item("dep_old", created: -86_400)]).count == 1)
    }
}

/// One case of the ownership table: a deposit request another client made, and whether the
/// rule makes it the row's.
struct OwnershipCase: Sendable, CustomStringConvertible {
    var name: String
    var customer = "cus_1"
    var website = "web_1"
    var currency = "USD"
    /// Seconds after the row's first deposit POST (nil: no createdTime).
    var createdOffset: TimeInterval?
    var owned: Bool

    var description: String { name }

    static let table: [OwnershipCase] = [
        OwnershipCase(name: "inside the window", createdOffset: 5, owned: true),
        OwnershipCase(name: "within the skew before the first POST", createdOffset: -200, owned: true),
        OwnershipCase(name: "ten minutes before the first POST", createdOffset: -600, owned: false),
        OwnershipCase(name: "ten minutes after the last call", createdOffset: 60 + 600, owned: false),
        OwnershipCase(name: "another currency", currency: "EUR", createdOffset: 5, owned: false),
        OwnershipCase(name: "the customer id in another case", customer: "CUS_1", createdOffset: 5, owned: true),
        OwnershipCase(name: "another customer", customer: "cus_2", createdOffset: 5, owned: false),
        OwnershipCase(name: "no createdTime", createdOffset: nil, owned: false),
    ]
}

/// The gateway over sockets: attempts, and pauses measured on the server's clock.
@Suite(.serialized) struct GatewaySandboxTests {
    func gateway(_ sandbox: RunningSandbox, attempts: Int = 3, wallClockOffset: Double = 0) throws -> RebillyGateway {
        let configuration = try RebillyConfiguration(baseURL: sandbox.baseURL, apiKey: try APIKey(sandbox.apiKey))
        let client = RebillyClient(configuration: configuration, wallClock: { Date().timeIntervalSince1970 + wallClockOffset })
        var settings = GatewaySettings(rate: try RateSpec(parsing: "1000/s"), maxAttempts: attempts)
        settings.backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(5))
        return RebillyGateway(client: client, settings: settings, control: RunControl())
    }

    static let body = #"{"websiteId":"web_1","customerId":"cus_1","currency":"USD"}"#

    @Test func maxAttemptsIsHonoured() async throws {
        var config = SandboxConfiguration()
        config.failRate = 1
        let sandbox = try await SandboxServer.start(config)
        let gateway = try gateway(sandbox, attempts: 2)
        let outcome = try await gateway.call { [client = gateway.client] () async throws(RebillyError) -> CashierResult in
            try await client.getCashier(id: "cashier_1")
        }
        await gateway.shutdown()
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        guard case .exhausted = outcome else { Issue.record("\(outcome)"); return }
        #expect(stats["requestsTotal"] == .number("2"))
    }

    /// The sandbox allows one POST per 2 s window and answers the next with 429 and its retry
    /// instant. With the local clock 10 minutes ahead or behind, the pause still ends when the
    /// server's window reopens: measured from the server's `Date`, not the local clock.
    @Test(arguments: [-600.0, 0, 600.0])
    func aSkewedLocalClockNeitherSkipsNorStretchesA429Pause(_ offset: Double) async throws {
        var config = SandboxConfiguration()
        config.rate = SandboxRate(limit: 1, period: .seconds(2))
        let sandbox = try await SandboxServer.start(config)
        let gateway = try gateway(sandbox, attempts: 3, wallClockOffset: offset)
        let client = gateway.client
        _ = try await client.createCashier(body: Self.body)
        let start = ContinuousClock.now
        let outcome = try await withThrowingTaskGroup(of: RebillyGateway.Outcome<CashierResult>?.self) { group in
            group.addTask {
                try await gateway.call { () async throws(RebillyError) -> CashierResult in
                    try await client.createCashier(body: #"{"websiteId":"web_1","customerId":"cus_2","currency":"USD"}"#)
                }
            }
            group.addTask { try await Task.sleep(for: .seconds(20)); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let elapsed = start.duration(to: .now)
        await gateway.shutdown()
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        guard case let .succeeded(result)? = outcome else { Issue.record("offset \(offset): \(String(describing: outcome))"); return }
        #expect(result.status == 201)
        #expect(stats["rateLimited"] == .number("1"), "one 429, then one request after the pause (offset \(offset))")
        #expect(elapsed < .seconds(10), "not stretched (10 min would be): \(elapsed)")
        #expect(elapsed > .milliseconds(500), "not skipped: \(elapsed)")
    }
}

func sandboxStats(_ sandbox: RunningSandbox) async throws -> JSONValue {
    var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/stats")
    request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 16 << 20)
    return try JSONParser.parse(Array(body.readableBytesView))
}
