import Foundation

/// `--history N`: each preloaded cashier's customer already has N deposit requests on its website
/// and currency, made by the operator's own site before the sandbox started. The newest is over an
/// hour old and each earlier one about ten minutes before the next (a seeded second within its
/// slot); each expired half an hour after it was made. Their terms are a typical job's: three
/// amounts in the cashier's currency and a redirectUrl. The same seed gives the same requests.
struct DepositHistory: Sendable {
    var count: Int
    var seed: UInt64?

    /// The newest request is at least this old when the sandbox starts, in seconds.
    static let newestAge: Int64 = 3600
    /// One request per slot of this many seconds, going back.
    static let slot: Int64 = 600
    /// Seconds from a request's creation to its expirationTime.
    static let lifetime: Int64 = 1800
    /// Where the operator's site sends its customers back.
    static let redirectUrl = "https://operator.example/cashier/return"

    /// One request made before the start.
    struct Request: Sendable {
        var input: DepositRequestInput
        var createdTime: Date
    }

    /// Every cashier's past requests, oldest first; each cashier's drawn from the seed and its own key.
    func requests(for cashiers: [PreloadedCashier], before start: Date) -> [Request] {
        guard count > 0 else { return [] }
        let newest = CollectionQuery.wholeSecond(start) - Self.newestAge
        var made: [(second: Int64, order: Int, request: Request)] = []
        made.reserveCapacity(count * cashiers.count)
        for cashier in cashiers {
            let key = [cashier.organizationId ?? "", cashier.customerId, cashier.websiteId, cashier.currency].joined(separator: "\u{1F}")
            var random = seed.map { SeededRandom(seed: $0 ^ SeededRandom.hash(key)) } ?? .unseeded()
            for i in 0..<count {
                let second = newest - Int64(i) * Self.slot - Int64(random.next() % UInt64(Self.slot))
                let created = Date(timeIntervalSince1970: TimeInterval(second))
                let input = DepositRequestInput(
                    websiteId: cashier.websiteId, customerId: cashier.customerId, currency: cashier.currency, strategyId: nil,
                    amounts: Self.amounts(currency: cashier.currency, using: &random), amountLimits: nil, customAmount: .absent,
                    redirectUrl: Self.redirectUrl, expirationTime: created.addingTimeInterval(TimeInterval(Self.lifetime)),
                    customPropertySetId: nil, notificationUrl: nil
                )
                made.append((second, made.count, Request(input: input, createdTime: created)))
            }
        }
        made.sort { ($0.second, $0.order) < ($1.second, $1.order) }
        return made.map(\.request)
    }

    /// Three amounts (a base of 10, 20, 25 or 50 units, then twice and five times it), written with
    /// the currency's minor-unit digits; currencies without minor units count in hundreds.
    static func amounts(currency: String, using random: inout SeededRandom) -> [ExactNumber] {
        let bases: [Int64] = [10, 20, 25, 50]
        let base = bases[Int(random.next() % UInt64(bases.count))]
        let digits = MinorUnits.digits(of: currency)
        let scale: Int64 = digits == 0 ? 100 : 1
        let factors: [Int64] = [1, 2, 5]
        return factors.compactMap { factor in
            let units = base * factor * scale
            let literal = digits == 0 ? String(units) : String(units) + "." + String(repeating: "0", count: digits)
            return ExactNumber(literal: literal)
        }
    }
}

/// ISO 4217 minor-unit digits of the currencies that do not have two (the sandbox's own short
/// table: it shares no code with the job).
enum MinorUnits {
    static let none: Set<String> = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                                    "VND", "VUV", "XAF", "XOF", "XPF"]
    static let three: Set<String> = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]

    static func digits(of currency: String) -> Int {
        none.contains(currency) ? 0 : three.contains(currency) ? 3 : 2
    }
}
