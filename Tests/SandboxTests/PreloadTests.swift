import Foundation
import Testing
@testable import Sandbox

@Suite("Preloaded cashiers")
struct PreloadTests {
    static let jsonl = """
    # existing cashiers
    {"customerId":"cus_pre","websiteId":"web_1","currency":"USD","balance":250.10,"bonusBalance":0.01,"pendingPayoutTotal":3}
    {"id":"cashier_fixed1","customerId":"cus_fixed","websiteId":"web_1","currency":"EUR","createdTime":"2026-01-02T03:04:05Z"}

    """

    @Test("JSONL loads with exact decimals")
    func loads() throws {
        let cashiers = try PreloadedCashier.load(jsonLines: Self.jsonl)
        #expect(cashiers.count == 2)
        #expect(cashiers[0].balance == Decimal(string: "250.10"))
        #expect(cashiers[0].bonusBalance == Decimal(string: "0.01"))
        #expect(cashiers[1].id == "cashier_fixed1")
        #expect(cashiers[1].createdTime == Timestamps.parse("2026-01-02T03:04:05Z"))
    }

    @Test("bad lines are reported with their line number")
    func badLines() {
        #expect(throws: PreloadedCashier.LoadError.self) { try PreloadedCashier.load(jsonLines: "{\"customerId\":\"a\"}") }
        do {
            _ = try PreloadedCashier.load(jsonLines: "\n{\"customerId\":\"a\",\"websiteId\":\"w\",\"currency\":\"USD\",\"balance\":-1}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.reason == "balance must be greater than or equal to 0")
        }
        #expect(throws: PreloadedCashier.LoadError.self) {
            try PreloadedCashier.load(jsonLines: """
            {"customerId":"a","websiteId":"w","currency":"USD"}
            {"customerId":"a","websiteId":"w","currency":"USD"}
            """)
        }
    }

    @Test("a batch POST meets the preloaded cashier: 200 with the preloaded balances")
    func postMeetsPreloaded() async throws {
        let preload = try PreloadedCashier.load(jsonLines: Self.jsonl)
        try await Harness.with({ $0.preload = preload }) { h in
            let r = try await h.postCashier(customer: "cus_pre")
            #expect(r.status == 200)
            let body = try r.json
            #expect(body["balance"]?.numberLiteral == "250.10")
            #expect(body["bonusBalance"]?.numberLiteral == "0.01")
            #expect(body["pendingPayoutTotal"]?.numberLiteral == "3")
            let fixed = try await h.get("/cashiers/cashier_fixed1")
            #expect(fixed.status == 200)
            #expect(try fixed.json["createdTime"] == .string("2026-01-02T03:04:05Z"))
            #expect(try fixed.json["balance"]?.numberLiteral == "0")
            let stats = try await h.stats()
            #expect(stats["cashiers"]?.intValue == 2)
            #expect(stats["preloadedCashiers"]?.intValue == 2)
        }
    }

    @Test("programmatic preload with Decimal amounts")
    func programmatic() async throws {
        let cashier = PreloadedCashier(customerId: "p", websiteId: "w", currency: "JPY", balance: Decimal(string: "0.1")!)
        try await Harness.with({ $0.preload = [cashier] }) { h in
            let body = try await h.postCashier(customer: "p", website: "w", currency: "JPY").json
            #expect(body["balance"]?.numberLiteral == "0.1")
        }
    }

    @Test("preload from a file")
    func fromFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-preload-\(UUID().uuidString).jsonl")
        try Self.jsonl.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try PreloadedCashier.load(contentsOf: url.path).count == 2)
    }
}
