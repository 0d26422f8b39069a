import CashierModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BatchRun
import Gateway
import Foundation
import Synchronization

/// Counts rows and 429s as the run goes; draws a bar on a terminal, or logs a line every 10 s (cron).
final class ProgressTracker: Sendable {
    private struct State {
        var total = 0, done = 0, failed = 0, rejected = 0, inDoubt = 0, needsReview = 0, stopped = 0, throttled = 0
        /// Rows waiting for their in-doubt deposit request to settle, and until when.
        var waiting = 0
        var waitUntil: ContinuousClock.Instant?

        var counts: Counts {
            Counts(total: total, done: done, rejected: rejected, failed: failed, inDoubt: inDoubt, needsReview: needsReview,
                   stopped: stopped, throttled: throttled, waiting: waiting)
        }
    }
    private let state = Mutex(State())
    private let start = ContinuousClock.now
    let log: RunLog
    let isTTY = isatty(2) != 0

    init(log: RunLog) { self.log = log }

    /// The rows the run is about to send.
    func plan(_ total: Int) { state.withLock { $0.total = total } }

    func row(_ outcome: RowOutcome) {
        state.withLock {
            switch outcome {
            case .done: $0.done += 1
            case .failed: $0.failed += 1
            case .rejected: $0.rejected += 1
            case .inDoubt: $0.inDoubt += 1
            case .needsReview: $0.needsReview += 1
            case .stopped: $0.stopped += 1
            }
        }
    }

    func throttled() { state.withLock { $0.throttled += 1 } }

    /// Nothing is left to send but `rows` parked rows, the first of which settles in `seconds`:
    /// the wait is said now, and the progress shows it (its ETA includes it).
    func waiting(seconds: Double, rows: Int) {
        state.withLock {
            $0.waiting = rows
            $0.waitUntil = .now + .milliseconds(Int(seconds * 1000))
        }
        log(RunEvent(.info, "waiting \(Int(seconds.rounded(.up))) s for \(rows) in-doubt deposit request\(rows == 1 ? "" : "s") to settle before checking \(rows == 1 ? "it" : "them")",
                     [("waitSeconds", .double(seconds)), ("inDoubtRows", .int(rows))]))
    }

    /// What the gateway did: 429s are counted (503s pause and slow the command down too, but
    /// are not the API's rate limit); a pause of 5 s or more is said when it starts.
    func gateway(_ event: GatewayEvent) {
        switch event {
        case let .throttled(status, seconds, until, _):
            if status == 429 { throttled() }
            guard let seconds, seconds >= 5 else { return }
            let when = until.map { " after " + Self.clock($0) } ?? ""
            log(RunEvent(.warning, "paused \(Int(seconds.rounded(.up))) s: Rebilly asked to retry\(when) (HTTP \(status))"))
        }
    }

    /// `02:15:30Z` for an epoch instant.
    static func clock(_ epoch: Double) -> String {
        let seconds = Int(epoch) % 86_400
        return String(format: "%02d:%02d:%02dZ", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }
    /// The 429s counted so far.
    var throttledCount: Int { state.withLock { $0.throttled } }

    /// Draws (TTY) or logs (otherwise) until cancelled.
    func report() async {
        let interval: Duration = isTTY ? .milliseconds(250) : .seconds(10)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            render()
        }
        if isTTY { FileHandle.standardError.write(Data((ProgressLine.clearIfActive()).utf8)) }
    }

    private func render() {
        let s = state.withLock { $0 }
        let elapsed = start.duration(to: .now)
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        // A settle wait under way: the ETA is at least that wait.
        var wait = 0
        if let until = s.waitUntil, until > .now, s.waiting > 0 {
            let left = ContinuousClock.now.duration(to: until)
            wait = Int((Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18).rounded(.up))
        }
        let line = Self.line(s.counts, seconds: seconds, waitSeconds: wait)
        if isTTY {
            let width = 30
            let filled = s.total > 0 ? min(width, line.finished * width / s.total) : width
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let parts = line.parts.filter { $0.value > 0 }.map { "\($0.value) \($0.name)" }.joined(separator: ", ")
            let waiting = wait > 0 ? "  waiting \(wait)s for \(s.waiting) in doubt" : ""
            ProgressLine.draw("[\(bar)] \(line.finished)/\(s.total) rows finished\(parts.isEmpty ? "" : " (\(parts))")  "
                + "\(String(format: "%.1f", line.perSecond)) rows/s  ETA \(line.eta)s  429s \(s.throttled)\(waiting)")
        } else {
            log(RunEvent(.info, "progress", line.fields))
        }
    }

    /// The counts a progress line shows. `finished` is exactly the sum of the parts (every row
    /// that ended: done, rejected, failed, in doubt, needing review, stopped by a signal); `left`
    /// is the rest of the total (in flight, waiting to settle, not started).
    struct Counts: Equatable {
        var total = 0, done = 0, rejected = 0, failed = 0, inDoubt = 0, needsReview = 0, stopped = 0, throttled = 0, waiting = 0
    }

    /// One progress line's values from the counts, the seconds since the start and the seconds
    /// left of a settle wait (0: none).
    static func line(_ c: Counts, seconds: Double, waitSeconds: Int) -> (finished: Int, perSecond: Double, eta: Int,
                                                                        parts: [(name: String, value: Int)], fields: [(String, LogValue)]) {
        let parts: [(name: String, value: Int)] = [("done", c.done), ("rejected", c.rejected), ("failed", c.failed), ("inDoubt", c.inDoubt),
                                                   ("needsReview", c.needsReview), ("stopped", c.stopped)]
        let finished = parts.reduce(0) { $0 + $1.value }
        let perSecond = Double(finished) / max(0.001, seconds)
        let left = max(0, c.total - finished)
        let eta = max(perSecond > 0 ? Int(Double(left) / perSecond) : 0, waitSeconds)
        var fields: [(String, LogValue)] = [("rows", "\(finished)/\(c.total)"), ("finished", .int(finished))]
        fields += parts.map { ($0.name, .int($0.value)) }
        fields += [("left", .int(left)), ("total", .int(c.total)), ("rowsPerSecond", .double(perSecond)), ("etaSeconds", .int(eta)),
                   ("throttled429", .int(c.throttled))]
        if waitSeconds > 0 { fields += [("waitingInDoubt", .int(c.waiting)), ("waitSeconds", .int(waitSeconds))] }
        return (finished, perSecond, eta, parts, fields)
    }
}

/// The single redrawn progress line on a terminal; log lines clear it first.
enum ProgressLine {
    private static let active = Mutex(false)

    static func draw(_ text: String) {
        active.withLock { $0 = true }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
    }

    static func clearIfActive() -> String {
        active.withLock { was in
            defer { was = false }
            return was ? "\r\u{1B}[2K" : ""
        }
    }
}
