/// Decides, per request, which injected faults apply. One draw sequence per request from a
/// single seeded generator, so the same seed and request order give the same faults.
final class FaultInjector: Sendable {
    /// What happens to one request.
    struct Plan: Sendable, Equatable {
        /// Delay before the request is handled.
        var delay: Duration?
        /// Answer this 5xx status without committing anything.
        var failStatus: Int?
        /// Commit, then close the connection without answering.
        var drop: Bool

        static let none = Plan(delay: nil, failStatus: nil, drop: false)

        /// Keeps the delay, forgets fail and drop (for requests refused before any operation).
        mutating func cancelFaults() {
            failStatus = nil
            drop = false
        }
    }

    static let failStatuses = [500, 502, 503]

    private let failRate: Double
    private let dropRate: Double
    private let latency: ClosedRange<Duration>?
    private let random: Locked<SeededRandom>

    init(failRate: Double, dropRate: Double, latency: ClosedRange<Duration>?, seed: UInt64?) {
        self.failRate = failRate
        self.dropRate = dropRate
        self.latency = latency
        self.random = Locked(seed.map(SeededRandom.init(seed:)) ?? .unseeded())
    }

    var isActive: Bool { failRate > 0 || dropRate > 0 || latency != nil }

    /// Draws the plan for the next request: latency (if configured), then one draw that picks
    /// fail (below `failRate`), drop (below `failRate + dropRate`) or neither, then the 5xx status.
    func nextPlan() -> Plan {
        guard isActive else { return .none }
        return random.withLock { rng in
            var plan = Plan.none
            if let latency {
                let low = latency.lowerBound.nanoseconds
                let high = latency.upperBound.nanoseconds
                plan.delay = .nanoseconds(low == high ? low : Int64.random(in: low...high, using: &rng))
            }
            if failRate > 0 || dropRate > 0 {
                let u = rng.unit()
                if u < failRate {
                    plan.failStatus = Self.failStatuses[Int(rng.next() % UInt64(Self.failStatuses.count))]
                } else if u < failRate + dropRate {
                    plan.drop = true
                }
            }
            return plan
        }
    }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attos) = components
        let (n, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : n &+ attos / 1_000_000_000
    }
}
