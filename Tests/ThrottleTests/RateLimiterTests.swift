import Testing
@testable import Throttle

/// Collects grant instants and how many workers are still running.
actor Recorder {
    var times: [ContinuousClock.Instant] = []
    var active: Int
    init(active: Int) { self.active = active }
    func record(_ t: ContinuousClock.Instant) { times.append(t) }
    func finished() { active -= 1 }
}

/// Waits (briefly, in real time) until `condition` holds.
func eventually(_ what: String = "", _ condition: () async -> Bool) async throws {
    for _ in 0..<20_000 {
        if await condition() { return }
        try await Task.sleep(for: .microseconds(50))
    }
    Issue.record("timed out waiting: \(what)")
    throw CancellationError()
}

@Suite("RateLimiter (actor, manual clock)")
struct RateLimiterTests {
    @Test("concurrent workers over a simulated minute: every 1-second window holds at most 20, served at the full rate")
    func concurrentWindow() async throws {
        let clock = ManualClock()
        let start = clock.now
        let limiter = RateLimiter(try RateSpec(parsing: "20/s"), burst: 20, clock: clock)
        let workers = 8, perWorker = 150
        let recorder = Recorder(active: workers)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    for _ in 0..<perWorker {
                        try await limiter.acquire()
                        await recorder.record(clock.now)
                    }
                    await recorder.finished()
                }
            }
            // Drive the clock: once every live worker is in line and the first sleeps, move to its deadline.
            while await recorder.active > 0 {
                try await eventually("workers settle") {
                    let active = await recorder.active
                    if active == 0 { return true }
                    return await limiter.status.waiting == active && clock.sleeperCount == 1
                }
                clock.advanceToNextDeadline()
            }
            try await group.waitForAll()
        }
        let times = await recorder.times
        #expect(times.count == workers * perWorker)
        #expect(maxInWindow(times, period: .seconds(1)) <= 20)
        let elapsed = (times.last! - start).seconds
        #expect(elapsed >= 59 && elapsed < 60.5, "1200 grants at 20/s take about 60 s, took \(elapsed)")
    }

    @Test("pause(until:) blocks every waiter and every later acquire until the instant")
    func pauseBlocksEveryone() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(try RateSpec(parsing: "100/s"), burst: 10, clock: clock)
        let until = clock.now + .seconds(5)
        await limiter.pause(until: until)
        let recorder = Recorder(active: 4)
        let tasks = (0..<4).map { _ in
            Task {
                try await limiter.acquire()
                await recorder.record(clock.now)
            }
        }
        try await eventually("four in line") { await limiter.status.waiting == 4 && clock.sleeperCount == 1 }
        for _ in 0..<4 {
            clock.advance(by: .seconds(1))
            try await eventually("head sleeps again") { clock.sleeperCount == 1 }
            #expect(await recorder.times.isEmpty)
        }
        clock.advance(to: until)
        // One token at the end of the pause, then the 100/s pace.
        var rounds = 0
        while await recorder.times.count < 4, rounds < 20 {
            try await eventually("next grant recorded, head asleep") {
                let recorded = await recorder.times.count
                let granted = await limiter.status.granted
                return recorded == 4 || (clock.sleeperCount == 1 && granted == recorded)
            }
            clock.advanceToNextDeadline()
            rounds += 1
        }
        for task in tasks { try await task.value }
        let times = await recorder.times.sorted()
        #expect(times.count == 4)
        #expect(times.allSatisfy { $0 >= until })
        #expect(times.first == until)
    }

    @Test("a cancelled waiter leaves the line with CancellationError; the others are still served in order")
    func cancellation() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(try RateSpec(parsing: "1/s"), burst: 1, clock: clock)
        try await limiter.acquire()  // takes the only token
        let first = Task { try await limiter.acquire() }
        try await eventually { await limiter.status.waiting == 1 && clock.sleeperCount == 1 }
        let second = Task { try await limiter.acquire() }
        try await eventually { await limiter.status.waiting == 2 }
        let third = Task { try await limiter.acquire() }
        try await eventually { await limiter.status.waiting == 3 }
        second.cancel()
        await #expect(throws: CancellationError.self) { try await second.value }
        try await eventually { await limiter.status.waiting == 2 }
        first.cancel()  // the head, asleep on the clock
        await #expect(throws: CancellationError.self) { try await first.value }
        try await eventually { await limiter.status.waiting == 1 && clock.sleeperCount == 1 }
        clock.advanceToNextDeadline()
        try await third.value
        #expect(await limiter.status.granted == 2)
        #expect(await limiter.status.waiting == 0)
    }

    @Test("onThrottled halves the served pace and onSuccess recovers it")
    func aimdThroughActor() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(try RateSpec(parsing: "10/s"), burst: 1, recoverySuccesses: 5, clock: clock)
        #expect(!limiter.isRecovering, "at full rate a success changes nothing")
        await limiter.onThrottled()
        #expect(await limiter.status.currentRate == 5)
        #expect(limiter.isRecovering)
        for _ in 0..<4 { await limiter.onSuccess() }
        #expect(limiter.isRecovering)
        await limiter.succeeded(limit: nil, remaining: nil)
        #expect(await limiter.status.currentRate == 10)
        #expect(!limiter.isRecovering)
        await limiter.observe(limit: 3000, remaining: 150)
        #expect(await limiter.status.effectiveRate == 5)
        await limiter.observe(limit: nil, remaining: 0)  // no headers: unchanged
        #expect(await limiter.status.effectiveRate == 5)
    }

    @Test("with the real clock the fast path needs no sleep")
    func realClockBurst() async throws {
        let limiter = RateLimiter(try RateSpec(parsing: "1000/s"), burst: 50)
        let start = ContinuousClock.now
        for _ in 0..<50 { try await limiter.acquire() }
        #expect(ContinuousClock.now - start < .milliseconds(100))
        #expect(limiter.spec.description == "1000/s")
    }
}
