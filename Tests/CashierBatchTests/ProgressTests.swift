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
}
