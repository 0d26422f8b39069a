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
        let finished = s.done + s.failed + s.rejected + s.inDoubt + s.needsReview + s.stopped
        let elapsed = start.duration(to: .now)
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let perSecond = Double(finished) / seconds
        let total = s.total
        let remaining = max(0, total - finished)
        var eta = perSecond > 0 ? Int(Double(remaining) / perSecond) : 0
        // A settle wait under way: the ETA is at least that wait.
        var wait = 0
        if let until = s.waitUntil, until > .now, s.waiting > 0 {
            let left = ContinuousClock.now.duration(to: until)
            wait = Int((Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18).rounded(.up))
            eta = max(eta, wait)
        }
        let rate = String(format: "%.1f", perSecond)
        if isTTY {
            let width = 30
            let filled = total > 0 ? min(width, finished * width / total) : width
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let waiting = wait > 0 ? "  waiting \(wait)s for \(s.waiting) in doubt" : ""
            ProgressLine.draw("[\(bar)] \(finished)/\(total) rows  \(rate) rows/s  ETA \(eta)s  429s \(s.throttled)  failed \(s.failed)\(waiting)")
        } else {
            var fields: [(String, LogValue)] = [
                ("rows", "\(finished)/\(total)"), ("finished", .int(finished)), ("total", .int(total)), ("rowsPerSecond", .double(perSecond)),
                ("etaSeconds", .int(eta)), ("done", .int(s.done)), ("failed", .int(s.failed)), ("throttled429", .int(s.throttled)),
            ]
            if wait > 0 { fields += [("waitingInDoubt", .int(s.waiting)), ("waitSeconds", .int(wait))] }
            log(RunEvent(.info, "progress", fields))
        }
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
