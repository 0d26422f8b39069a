import Foundation
import Testing
@testable import Sandbox

@Suite("Fault injection")
struct FaultTests {
    @Test("dropRate 1 commits the operation, then closes the connection without an answer")
    func dropCommitsWithoutAnswer() async throws {
        try await Harness.with({ $0.dropRate = 1 }) { h in
            await #expect(throws: (any Error).self) {
                _ = try await h.postCashier(customer: "dropped", extra: #""redirectUrl":"https://shop.example/r""#)
            }
            await #expect(throws: (any Error).self) {
                _ = try await h.postDeposit(customer: "dropped")
            }
            let state = try await h.get("/_sandbox/cashiers").json
            let cashiers = try #require(state["cashiers"]?.arrayValue)
            #expect(cashiers.count == 1)
            #expect(cashiers.first?["customerId"] == .string("dropped"))
            #expect(cashiers.first?["redirectUrl"] == .string("https://shop.example/r"))
            #expect(state["depositRequests"]?.arrayValue?.count == 1)
            let stats = try await h.stats()
            #expect(stats["requests"]?["PostCashier"] == .object([("dropped:201", .int(1))]))
            #expect(stats["requests"]?["PostDepositRequest"] == .object([("dropped:201", .int(1))]))
            #expect(stats["faults"]?["drop"]?.intValue == 2)
        }
    }

    @Test("failRate with a seed: reproducible 5xx problems that commit nothing")
    func seededFailures() async throws {
        func run() async throws -> [Int] {
            try await Harness.with({ $0.failRate = 0.5; $0.seed = 42 }) { h in
                var statuses: [Int] = []
                for i in 0..<24 {
                    let r = try await h.postCashier(customer: "f\(i)")
                    statuses.append(r.status)
                    if r.status >= 500 {
                        let body = try r.json
                        #expect(body["status"]?.intValue == r.status)
                        #expect(body["detail"] == .string("Fault injected by the sandbox (--fail-rate)"))
                    }
                }
                let stats = try await h.stats()
                let created = statuses.filter { $0 == 201 }.count
                #expect(stats["cashiers"]?.intValue == created, "a failed request commits nothing")
                #expect(stats["faults"]?["fail"]?.intValue == statuses.count - created)
                return statuses
            }
        }
        let first = try await run()
        let second = try await run()
        #expect(first == second, "same seed, same faults")
        #expect(Set(first).isSubset(of: [201, 500, 502, 503]))
        #expect(first.contains(201))
        #expect(first.contains { $0 >= 500 })
    }

    @Test("latency delays each request by the configured range")
    func latency() async throws {
        let fixed: ClosedRange<Duration> = .milliseconds(40) ... .milliseconds(40)
        try await Harness.with({ $0.latency = fixed }) { (h: Harness) async throws in
            let started = ContinuousClock.now
            #expect(try await h.postCashier(customer: "slow").status == 201)
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(40))
            #expect(try await h.stats()["faults"]?["latency"]?.intValue == 1)
        }
    }

    @Test("the plan generator is deterministic for a seed")
    func injectorIsDeterministic() {
        let a = FaultInjector(failRate: 0.3, dropRate: 0.3, latency: .milliseconds(1) ... .milliseconds(9), seed: 7)
        let b = FaultInjector(failRate: 0.3, dropRate: 0.3, latency: .milliseconds(1) ... .milliseconds(9), seed: 7)
        let plansA = (0..<200).map { _ in a.nextPlan() }
        let plansB = (0..<200).map { _ in b.nextPlan() }
        #expect(plansA == plansB)
        let drops = plansA.filter(\.drop).count
        let fails = plansA.filter { $0.failStatus != nil }.count
        #expect((30...90).contains(drops))
        #expect((30...90).contains(fails))
        #expect(plansA.allSatisfy { !($0.drop && $0.failStatus != nil) })
        #expect(plansA.allSatisfy { ($0.delay ?? .zero) >= .milliseconds(1) && ($0.delay ?? .zero) <= .milliseconds(9) })
    }
}
