import BatchRun
@testable import CashierBatch
import Gateway
import Testing

@Suite struct ProgressTests {
    @Test("the progress counts 429s only; a 503 still pauses and slows the run (in the gateway)")
    func countsOnly429s() {
        let progress = ProgressTracker(log: RunLog(format: .text))
        progress.gateway(.throttled(status: 503, pauseSeconds: nil, untilEpoch: nil))
        progress.gateway(.throttled(status: 429, pauseSeconds: 1, untilEpoch: nil))
        progress.gateway(.throttled(status: 429, pauseSeconds: nil, untilEpoch: nil))
        #expect(progress.throttledCount == 2)
    }

    @Test func aRetryInstantIsShownAsUTCTime() {
        #expect(ProgressTracker.clock(1_764_641_730) == "02:15:30Z")
    }

    @Test("the progress line's finished rows are exactly the sum of its parts; left is the rest")
    func countsAddUp() {
        let counts = ProgressTracker.Counts(total: 63, done: 1, rejected: 2, failed: 0, inDoubt: 3, needsReview: 1, stopped: 2, throttled: 4, waiting: 2)
        let line = ProgressTracker.line(counts, seconds: 10, waitSeconds: 70)
        #expect(line.fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            == "rows=9/63 finished=9 done=1 rejected=2 failed=0 inDoubt=3 needsReview=1 stopped=2 left=54 total=63 rowsPerSecond=0.900 etaSeconds=70 throttled429=4 waitingInDoubt=2 waitSeconds=70")
        let quiet = ProgressTracker.line(counts, seconds: 10, waitSeconds: 0)
        #expect(quiet.eta == 60 && !quiet.fields.contains { $0.0 == "waitSeconds" })
    }
}
