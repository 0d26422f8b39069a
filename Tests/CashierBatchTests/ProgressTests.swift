import BatchRun
@testable import CashierBatch
import Testing

/// A gate that only records what reached it.
private final class RecordingGate: RequestGate, @unchecked Sendable {
    var statuses: [Int] = []
    func acquire() async throws {}
    func throttled(status: Int, retryAfterSeconds: Double?) async { statuses.append(status) }
    func succeeded(quota: Quota) async {}
}

@Suite struct ProgressTests {
    @Test("the progress counts 429s only; a 503 still pauses and slows the run")
    func countsOnly429s() async {
        let inner = RecordingGate()
        let progress = ProgressTracker(log: RunLog(format: .text))
        let gate = CountingGate(inner: inner, progress: progress)
        await gate.throttled(status: 503, retryAfterSeconds: nil)
        await gate.throttled(status: 429, retryAfterSeconds: nil)
        await gate.throttled(status: 429, retryAfterSeconds: nil)
        #expect(progress.throttledCount == 2)
        #expect(inner.statuses == [503, 429, 429])
    }
}
