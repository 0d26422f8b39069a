import Testing
@testable import Throttle

@Suite("Backoff")
struct BackoffTests {
    @Test("ceilings double from base up to the cap")
    func ceilings() {
        let b = Backoff(base: .milliseconds(100), cap: .seconds(2))
        #expect((0...7).map { b.ceiling(attempt: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
            .milliseconds(1600), .seconds(2), .seconds(2), .seconds(2),
        ])
        #expect(b.ceiling(attempt: 1_000) == .seconds(2))
        #expect(b.ceiling(attempt: -3) == .milliseconds(100))
    }

    @Test("full jitter: every delay within 0...ceiling, spread over the whole range")
    func bounds() {
        let b = Backoff(base: .milliseconds(100), cap: .seconds(2))
        var rng = SeededGenerator(seed: 7)
        for attempt in 0..<8 {
            let ceiling = b.ceiling(attempt: attempt)
            let delays = (0..<2000).map { _ in b.delay(attempt: attempt, using: &rng) }
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= ceiling })
            #expect(delays.contains { $0 < ceiling / 10 })
            #expect(delays.contains { $0 > ceiling * 9 / 10 })
            let mean = delays.map(\.seconds).reduce(0, +) / Double(delays.count)
            #expect(abs(mean - ceiling.seconds / 2) < ceiling.seconds * 0.05)
        }
    }

    @Test("a seed reproduces the same delays")
    func seeded() {
        let b = Backoff()
        var r1 = SeededGenerator(seed: 99), r2 = SeededGenerator(seed: 99)
        #expect((0..<20).map { b.delay(attempt: $0 % 6, using: &r1) } == (0..<20).map { b.delay(attempt: $0 % 6, using: &r2) })
    }
}

