import Foundation

/// A cashier that exists before the batch runs (`--preload FILE`), so reconciliation can meet
/// cashiers whose balances differ from the batch. Money is `Decimal`, never `Double`.
public struct PreloadedCashier: Sendable, Equatable {
    /// Fixed id; when nil the sandbox assigns `cashier_<ULID>`.
    public var id: String?
    public var customerId: String
    public var websiteId: String
    public var currency: String
    public var balance: Decimal
    public var bonusBalance: Decimal
    public var pendingPayoutTotal: Decimal
    public var redirectUrl: String?
    public var notificationUrl: String?
    /// The cashier's creation time; nil means "when the sandbox starts".
    public var createdTime: Date?
    /// Whether the customer may withdraw; nil means "when the balance is positive".
    public var canWithdraw: Bool?
    /// The organization holding it; nil means the sandbox's default organization.
    public var organizationId: String?

    /// Number literals exactly as the preload file wrote them (kept so responses echo them).
    var literals: (balance: String, bonusBalance: String, pendingPayoutTotal: String)?

    public init(
        id: String? = nil, customerId: String, websiteId: String, currency: String,
        balance: Decimal = 0, bonusBalance: Decimal = 0, pendingPayoutTotal: Decimal = 0,
        redirectUrl: String? = nil, notificationUrl: String? = nil, createdTime: Date? = nil
    ) {
        self.id = id
        self.customerId = customerId
        self.websiteId = websiteId
        self.currency = currency
        self.balance = balance
        self.bonusBalance = bonusBalance
        self.pendingPayoutTotal = pendingPayoutTotal
        self.redirectUrl = redirectUrl
        self.notificationUrl = notificationUrl
        self.createdTime = createdTime
    }

    public static func == (lhs: PreloadedCashier, rhs: PreloadedCashier) -> Bool {
        lhs.id == rhs.id && lhs.customerId == rhs.customerId && lhs.websiteId == rhs.websiteId
            && lhs.currency == rhs.currency && lhs.balance == rhs.balance && lhs.bonusBalance == rhs.bonusBalance
            && lhs.pendingPayoutTotal == rhs.pendingPayoutTotal && lhs.redirectUrl == rhs.redirectUrl
            && lhs.notificationUrl == rhs.notificationUrl && lhs.createdTime == rhs.createdTime
            && lhs.canWithdraw == rhs.canWithdraw && lhs.organizationId == rhs.organizationId
    }

    /// Error from `load(jsonLines:)`, naming the 1-based line.
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var line: Int
        public var reason: String
        public var description: String { "preload line \(line): \(reason)" }
    }

    /// Reads a JSON Lines file: one object per line with the `PostCashier` fields
    /// (`customerId`, `websiteId`, `currency` required; `balance`, `bonusBalance`,
    /// `pendingPayoutTotal`, `redirectUrl`, `notificationUrl` optional) plus optional `id`,
    /// `createdTime`, `canWithdraw` and `organizationId`. Blank lines and lines starting with `#`
    /// are skipped. The figures are Rebilly's own, which only this file and the figures endpoint set.
    public static func load(contentsOf path: String) throws -> [PreloadedCashier] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try load(jsonLines: String(decoding: data, as: UTF8.self))
    }

    /// Parses JSON Lines text as described in `load(contentsOf:)`.
    public static func load(jsonLines text: String) throws(LoadError) -> [PreloadedCashier] {
        var result: [PreloadedCashier] = []
        var seenKeys = Set<[String]>()
        var seenIds = Set<String>()
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine).trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let lineNumber = offset + 1
            let value: JSONValue
            do {
                value = try JSONParser.parse(line)
            } catch {
                throw LoadError(line: lineNumber, reason: error.description)
            }
            let input: CashierInput
            do {
                input = try CashierInput.validate(value, figures: .settable, extraFields: ["id", "createdTime", "canWithdraw", "organizationId"])
            } catch {
                let reasons = error.fields.map(\.message).joined(separator: "; ")
                throw LoadError(line: lineNumber, reason: reasons)
            }
            var cashier = PreloadedCashier(
                customerId: input.customerId, websiteId: input.websiteId, currency: input.currency,
                balance: input.balance?.value ?? 0, bonusBalance: input.bonusBalance?.value ?? 0,
                pendingPayoutTotal: input.pendingPayoutTotal?.value ?? 0,
                redirectUrl: input.redirectUrl, notificationUrl: input.notificationUrl
            )
            cashier.literals = (
                input.balance?.literal ?? "0", input.bonusBalance?.literal ?? "0", input.pendingPayoutTotal?.literal ?? "0"
            )
            switch value["id"] {
            case nil, .null?: break
            case .string(let id)? where FieldFormats.isResourceID(id[...]):
                guard seenIds.insert(id).inserted else { throw LoadError(line: lineNumber, reason: "duplicate id \(id)") }
                cashier.id = id
            default: throw LoadError(line: lineNumber, reason: "id must be a string matching ^[@~\\-\\.\\w]+$ of at most 50 characters")
            }
            switch value["createdTime"] {
            case nil, .null?: break
            case .string(let text)?:
                guard let date = Timestamps.parse(text) else {
                    throw LoadError(line: lineNumber, reason: "createdTime must be an RFC 3339 date-time")
                }
                cashier.createdTime = date
            default: throw LoadError(line: lineNumber, reason: "createdTime must be a string")
            }
            switch value["canWithdraw"] {
            case nil, .null?: break
            case .bool(let flag)?: cashier.canWithdraw = flag
            default: throw LoadError(line: lineNumber, reason: "canWithdraw must be true or false")
            }
            switch value["organizationId"] {
            case nil, .null?: break
            case .string(let org)? where FieldFormats.isResourceID(org[...]): cashier.organizationId = org
            default: throw LoadError(line: lineNumber, reason: "organizationId must be a string matching ^[@~\\-\\.\\w]+$ of at most 50 characters")
            }
            guard seenKeys.insert([cashier.organizationId ?? "", cashier.customerId, cashier.websiteId, cashier.currency]).inserted else {
                throw LoadError(line: lineNumber, reason: "duplicate cashier for (customerId, websiteId, currency)")
            }
            result.append(cashier)
        }
        return result
    }

    /// The amounts as exact numbers: the file's literals when loaded from text, else the decimals.
    var exactAmounts: (balance: ExactNumber, bonusBalance: ExactNumber, pendingPayoutTotal: ExactNumber) {
        if let literals, let b = ExactNumber(literal: literals.balance), b.value == balance,
           let bb = ExactNumber(literal: literals.bonusBalance), bb.value == bonusBalance,
           let p = ExactNumber(literal: literals.pendingPayoutTotal), p.value == pendingPayoutTotal {
            return (b, bb, p)
        }
        return (ExactNumber(balance), ExactNumber(bonusBalance), ExactNumber(pendingPayoutTotal))
    }
}
