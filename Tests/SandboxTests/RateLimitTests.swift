import Foundation
import Testing
@testable import Sandbox

@Suite("Rate limit per organization")
struct RateLimitTests {
    @Test("a burst beyond the rate gets 429 with a future X-RateLimit-Retry-After epoch")
    func burstGets429() async throws {
        try await Harness.with({ $0.rate = SandboxRate(parsing: "3/10m") }) { h in
            let before = Int(Date().timeIntervalSince1970)
            var remaining: [String?] = []
            for i in 0..<3 {
                let r = try await h.postCashier(customer: "r\(i)")
                #expect(r.status == 201)
                #expect(r.header("X-RateLimit-Limit") == "3")
                remaining.append(r.header("X-RateLimit-Remaining"))
            }
            #expect(remaining == ["2", "1", "0"])
            for i in 3..<5 {
                let r = try await h.postDeposit(customer: "r\(i)")
                #expect(r.status == 429)
                #expect(try r.json == .object([
                    ("type", .string("about:blank")), ("title", .string("Rate Limit Exceeded")), ("status", .int(429)),
                    ("detail", .string("A request cannot be executed because the user has sent too many requests within a certain period of time")),
                ]))
                let retryAt = try #require(r.header("X-RateLimit-Retry-After").flatMap(Int.init))
                #expect(retryAt > before)
                #expect(retryAt >= before + 599 && retryAt <= Int(Date().timeIntervalSince1970) + 601)
            }
            // GETs are not counted and still answer.
            let list = try await h.get("/deposit-requests")
            #expect(list.status == 200)
            #expect(list.header("X-RateLimit-Remaining") == "0")
            // Another organization has its own window.
            let other = try await h.postCashier(customer: "r9", prefix: "/organizations/org_other")
            #expect(other.status == 201)
            #expect(other.header("X-RateLimit-Remaining") == "2")
            // The unprefixed path is the default organization; its window is full.
            let defaultOrg = try await h.postCashier(customer: "r10", prefix: "/organizations/\(SandboxConfiguration.defaultOrganizationId)")
            #expect(defaultOrg.status == 429)

            let stats = try await h.stats()
            #expect(stats["rateLimited"]?.intValue == 3)
            #expect(stats["cashiers"]?.intValue == 4)
            #expect(stats["depositRequests"]?.intValue == 0)
        }
    }

    @Test("a short window reopens")
    func windowReopens() async throws {
        // A window long enough that the second request falls inside it on a loaded machine.
        try await Harness.with({ $0.rate = SandboxRate(limit: 1, period: .milliseconds(4000)) }) { h in
            #expect(try await h.postCashier(customer: "w1").status == 201)
            #expect(try await h.postCashier(customer: "w2").status == 429)
            try await Task.sleep(for: .milliseconds(4100))
            #expect(try await h.postCashier(customer: "w3").status == 201)
        }
    }

    @Test("without a rate the headers show Rebilly's documented sandbox window, full, and nothing is counted")
    func unlimited() async throws {
        try await Harness.with { h in
            for i in 0..<3 {
                let r = try await h.postCashier(customer: "u\(i)")
                #expect(r.status == 201)
                #expect(r.header("X-RateLimit-Limit") == "3000" && r.header("X-RateLimit-Remaining") == "3000")
            }
        }
    }
}
