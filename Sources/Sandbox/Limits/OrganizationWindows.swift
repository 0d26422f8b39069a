import Foundation

/// Counts non-GET requests per organization in fixed windows that open at the first request
/// after the previous window closed. A full window answers with the epoch second it closes, by
/// the server's clock.
final class OrganizationWindows: Sendable {
    enum Decision: Sendable, Equatable {
        /// Accepted; `remaining` requests are left in this window.
        case allowed(limit: Int, remaining: Int)
        /// Refused; a request will be accepted again at `retryAt` (UTC epoch seconds).
        case limited(limit: Int, retryAt: Int)
    }

    private struct Window {
        var start: Date
        var count: Int
    }

    let rate: SandboxRate
    private let clock: SandboxClock
    private let windows = Locked([String: Window]())
    private var period: TimeInterval {
        let (seconds, attos) = rate.period.components
        return TimeInterval(seconds) + TimeInterval(attos) / 1e18
    }

    init(rate: SandboxRate, clock: SandboxClock = SandboxClock()) {
        self.rate = rate
        self.clock = clock
    }

    /// Takes one request's worth from `organization`'s window.
    func acquire(organization: String, now: Date? = nil) -> Decision {
        let now = now ?? clock.now()
        return windows.withLock { windows in
            var window = windows[organization] ?? Window(start: now, count: 0)
            if now.timeIntervalSince(window.start) >= period {
                window = Window(start: now, count: 0)
            }
            guard window.count < rate.limit else {
                let reopens = window.start.addingTimeInterval(period).timeIntervalSince1970
                return .limited(limit: rate.limit, retryAt: Int(reopens.rounded(.up)))
            }
            window.count += 1
            windows[organization] = window
            return .allowed(limit: rate.limit, remaining: rate.limit - window.count)
        }
    }

    /// What is left for `organization` without taking anything (for GET responses).
    func remaining(organization: String, now: Date? = nil) -> Int {
        let now = now ?? clock.now()
        return windows.withLock { windows in
            guard let window = windows[organization], now.timeIntervalSince(window.start) < period else { return rate.limit }
            return max(0, rate.limit - window.count)
        }
    }
}
