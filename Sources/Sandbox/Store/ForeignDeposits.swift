import Foundation

/// `--foreign-deposits RATE`: the operator's own site creates deposit requests for the same
/// customers while the job runs. After each deposit request the API creates, with probability
/// `rate`, another client of the organization makes one for the same customer, website and
/// currency: half the time identical in every field (amounts, customAmount, URLs and
/// expirationTime), else with the site's own terms (the strategy's amounts, no expiration).
final class ForeignDeposits: Sendable {
    let rate: Double
    private let random: Locked<SeededRandom>

    init(rate: Double, seed: UInt64?) {
        self.rate = rate
        // Its own sequence: turning foreign deposits on does not change which requests fault.
        random = Locked(seed.map { SeededRandom(seed: $0 ^ 0xF0E1_D2C3_B4A5_9687) } ?? .unseeded())
    }

    /// Maybe makes the other client's request that follows `record`.
    func follow(_ record: DepositRequestRecord, in store: SandboxStore) {
        guard rate > 0 else { return }
        let (make, identical) = random.withLock { r in (r.unit() < rate, r.unit() < 0.5) }
        guard make else { return }
        var input = record.input
        if !identical {
            input = DepositRequestInput(
                websiteId: input.websiteId, customerId: input.customerId, currency: input.currency, strategyId: nil,
                amounts: nil, amountLimits: nil, customAmount: .absent, redirectUrl: nil, expirationTime: nil,
                customPropertySetId: nil, notificationUrl: nil)
        }
        _ = store.createDepositRequest(input, foreign: true)
    }
}
