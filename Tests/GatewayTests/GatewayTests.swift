import AsyncHTTPClient
import CashierModel
import Foundation
@testable import Gateway
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

/// A silent server fails some requests as "no answer" and others as "no connection": twenty
/// night-level failures in a row stop the command whatever their mix, named by the most frequent.
@Suite struct NightFailureBurstTests {
    func gateway() throws -> (RebillyGateway, RunControl) {
        let client = RebillyClient(configuration: try RebillyConfiguration(baseURL: "http://127.0.0.1:9", apiKey: try APIKey("k")))
        let control = RunControl()
        return (RebillyGateway(client: client, settings: GatewaySettings(rate: try RateSpec(parsing: "10/s")), control: control), control)
    }

    static func transport(_ message: String) -> CallFailure {
        CallFailure(.transport(kind: .timeout, message: message, mayHaveBeenApplied: true, latency: .zero))
    }

    @Test func mixedCausesInARowStopTheCommand() async throws {
        let (gateway, control) = try gateway()
        for i in 0..<19 { gateway.countNightFailure(Self.transport(i % 3 == 0 ? "no connection" : "no answer in 0.5 s")) }
        #expect(control.stopReason == nil)
        gateway.countNightFailure(Self.transport("no connection"))
        #expect(control.stopReason == .apiUnreachable("no answer in 0.5 s (20 requests in a row)"))
        await gateway.shutdown()
    }

    @Test func anAnswerBetweenStartsTheCountAgain() async throws {
        let (gateway, control) = try gateway()
        for _ in 0..<19 { gateway.countNightFailure(Self.transport("no answer")) }
        gateway.countNightFailure(CallFailure(.problem(status: 422, title: nil, detail: nil, invalidFields: [], rateLimit: .none, latency: .zero)))
        for _ in 0..<19 { gateway.countNightFailure(Self.transport("no answer")) }
        #expect(control.stopReason == nil)
        await gateway.shutdown()
    }
}

/// The one rule for which listed deposit request is a row's: these cases are also run through
/// `run`, `retry` and `reconcile` over sockets (DepositOwnershipCLITests).
@Suite struct DepositOwnershipTests {
    static let post = Date(timeIntervalSince1970: 1_800_000_000.25)
    static let rowID: Int64 = 17
    static let rule = DepositOwnership()
    static let terms = DepositRequestSpec(amounts: [Amount(minorUnits: 1000, exponent: 2), Amount(minorUnits: 2000, exponent: 2)],
                                          redirectUrl: "https://casino.example/back")
    static let row = DepositOwnership.Row(customerId: "cus_1", websiteId: "web_1", currency: "USD", terms: terms,
                                          posts: [post], lastCall: post.addingTimeInterval(60), rowID: rowID)
    /// The expirationTime the job sent with its POST.
    static let sentExpiry = DepositOwnership.expirationTime(sentAt: post, rowID: rowID)

    static func item(_ id: String, customer: String = "cus_1", website: String = "web_1", currency: String = "USD",
                     created: TimeInterval? = 5, amounts: [String]? = ["10.00", "20"], redirect: String? = "https://casino.example/back",
                     expiry: Date? = sentExpiry) -> DepositRequest {
        DepositRequest(id: id, customerId: customer, websiteId: website, currency: currency,
                       createdTime: created.map { post.addingTimeInterval($0) },
                       terms: DepositTerms(amounts: amounts, redirectUrl: redirect, expirationTime: expiry))
    }

    @Test func theJobsExpirationTimeIsUniqueToTheRowAndNeverRebillysDefault() {
        #expect(RFC3339.string(Self.sentExpiry) == "2027-01-15T09:00:18Z")   // 08:00:00 + 1 h + 1 + 17 s
        let sameSecond = Set((1...599).map { DepositOwnership.expirationTime(sentAt: Self.post, rowID: Int64($0)) })
        #expect(sameSecond.count == 599, "599 rows sent in one second carry 599 different values")
        #expect(!sameSecond.contains(Self.post.addingTimeInterval(3600 - 0.25)), "never exactly one hour")
        #expect((DepositOwnership.sendTime(Date(timeIntervalSince1970: 10.123_9)).timeIntervalSince1970 * 1000).rounded() == 10_123)
    }

    @Test(arguments: OwnershipCase.table)
    func oneRule(_ c: OwnershipCase) {
        let verdict = Self.rule.verdict(for: Self.row, among: c.items)
        #expect(verdict.adoptable?.id == c.adopt, "\(c.name): \(verdict)")
        #expect(verdict.needsReview == c.review, "\(c.name): \(verdict)")
        #expect(verdict.absent == (c.adopt == nil && !c.review), "\(c.name)")
        #expect(verdict.foreign.map(\.id) == c.foreign, "\(c.name): \(verdict)")
    }

    @Test func aBatchExpirationTimeIsTheOneCompared() {
        var row = Self.row
        row.terms.expirationTime = "2026-12-24T18:00:00+01:00"
        let given = RFC3339.date("2026-12-24T17:00:00Z")
        let verdict = Self.rule.verdict(for: row, among: [Self.item("dep_a", expiry: given), Self.item("dep_b")])
        #expect(verdict.adoptable?.id == "dep_a")
        #expect(verdict.nearMisses.map(\.field) == ["expirationTime"])
    }

    @Test func mismatchesCompareEveryFieldExactlyAndNotTheWindow() {
        #expect(Self.rule.mismatches(of: Self.item("dep_x", created: -86_400), for: Self.row) == [])
        #expect(Self.rule.mismatches(of: Self.item("dep_x", customer: "CUS_1"), for: Self.row) == ["customerId"])
        #expect(Self.rule.mismatches(of: Self.item("dep_x", website: "web_2", amounts: ["10"]), for: Self.row) == ["websiteId", "amounts"])
        #expect(Self.rule.mismatches(of: Self.item("dep_x", expiry: nil), for: Self.row) == ["expirationTime"])
    }

    @Test func theWindowHoldsEitherClockOffByTheTolerance() {
        let window = Self.rule.window(firstPost: Self.post, lastCall: Self.post.addingTimeInterval(60))
        #expect(window.lowerBound == Self.post.addingTimeInterval(-900) && window.upperBound == Self.post.addingTimeInterval(960))
        let reversed = Self.rule.window(firstPost: Self.post, lastCall: Self.post.addingTimeInterval(-5))
        #expect(reversed.upperBound == Self.post.addingTimeInterval(900), "a last call before the first POST never narrows it")
    }

    @Test func reasonsNameTheCandidates() {
        let two = Self.rule.verdict(for: Self.row, among: [Self.item("dep_b", created: 9), Self.item("dep_a", created: 2)])
        #expect(two.needsReviewReason == "2 deposit requests match every field the job sent: dep_a, dep_b")
        let miss = Self.rule.verdict(for: Self.row, among: [Self.item("dep_c", amounts: ["10.00", "25.00"])])
        #expect(miss.needsReviewReason == "a deposit request differs from what the job sent in one field: dep_c (amounts differs)")
    }
}

/// One case of the ownership table: what Rebilly lists for the row's customer, and what the
/// rule makes of it.
struct OwnershipCase: Sendable, CustomStringConvertible {
    typealias T = DepositOwnershipTests
    var name: String
    var items: [DepositRequest]
    var adopt: String? = nil
    var review = false
    var foreign: [String] = []

    var description: String { name }

    static let table: [OwnershipCase] = [
        OwnershipCase(name: "every field as sent, inside the window", items: [T.item("dep_x")], adopt: "dep_x"),
        OwnershipCase(name: "the customer id in another case: another customer", items: [T.item("dep_x", customer: "CUS_1")]),
        OwnershipCase(name: "the website id in another case: another website", items: [T.item("dep_x", website: "WEB_1")]),
        OwnershipCase(name: "the row's, and the same terms for the customer id in another case",
                      items: [T.item("dep_a"), T.item("dep_b", customer: "Cus_1")], adopt: "dep_a"),
        OwnershipCase(name: "amounts written with other digits", items: [T.item("dep_x", amounts: ["10", "20.0"])], adopt: "dep_x"),
        OwnershipCase(name: "Rebilly's default expiry (another client, same terms)",
                      items: [T.item("dep_x", expiry: T.post.addingTimeInterval(3605))], review: true),
        OwnershipCase(name: "another currency only", items: [T.item("dep_x", currency: "EUR")], review: true),
        OwnershipCase(name: "other amounts and no expirationTime", items: [T.item("dep_x", amounts: ["50"], expiry: nil)], foreign: ["dep_x"]),
        OwnershipCase(name: "two requests identical in every field", items: [T.item("dep_a", created: 2), T.item("dep_b", created: 3)],
                      review: true),
        OwnershipCase(name: "the row's, and another client's that differs in one field",
                      items: [T.item("dep_a"), T.item("dep_b", redirect: "https://casino.example/")], adopt: "dep_a"),
        OwnershipCase(name: "identical, 14 min before the first POST (Rebilly's clock behind)", items: [T.item("dep_x", created: -840)],
                      adopt: "dep_x"),
        OwnershipCase(name: "identical, 14 min after the last call (Rebilly's clock ahead)", items: [T.item("dep_x", created: 60 + 840)],
                      adopt: "dep_x"),
        OwnershipCase(name: "identical, 16 min before the first POST", items: [T.item("dep_x", created: -960)]),
        OwnershipCase(name: "identical, 16 min after the last call", items: [T.item("dep_x", created: 60 + 960)]),
        OwnershipCase(name: "another customer", items: [T.item("dep_x", customer: "cus_2")]),
        OwnershipCase(name: "no createdTime", items: [T.item("dep_x", created: nil)]),
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
