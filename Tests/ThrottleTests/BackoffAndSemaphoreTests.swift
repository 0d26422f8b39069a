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

@Suite("InFlightLimit")
struct InFlightLimitTests {
    @Test("never more than the cap at once, and everyone gets through")
    func cap() async throws {
        let limit = InFlightLimit(4)
        let done = Recorder(active: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await limit.withPermit {
                        #expect(await limit.inUse <= 4)
                        try await Task.sleep(for: .milliseconds(2))
                    }
                    await done.record(.now)
                }
            }
            try await group.waitForAll()
        }
        #expect(await done.times.count == 40)
        #expect(await limit.peak == 4)
        #expect(await limit.inUse == 0)
    }

    @Test("a cancelled waiter leaves without taking a permit; permits are handed over FIFO")
    func cancelAndOrder() async throws {
        let limit = InFlightLimit(1)
        try await limit.acquire()
        let order = Recorder(active: 0)
        let clock = ManualClock()
        let a = Task { try await limit.acquire(); await order.record(clock.now) }
        try await eventually { await limit.waiting == 1 }
        let b = Task { try await limit.acquire() }
        try await eventually { await limit.waiting == 2 }
        let c = Task { try await limit.acquire(); await order.record(clock.now) }
        try await eventually { await limit.waiting == 3 }
        b.cancel()
        await #expect(throws: CancellationError.self) { try await b.value }
        #expect(await limit.waiting == 2)
        await limit.release()
        try await a.value
        clock.advance(by: .seconds(1))
        await limit.release()
        try await c.value
        let times = await order.times
        #expect(times.count == 2 && times[0] < times[1])
        #expect(await limit.inUse == 1)
    }
}
