import Foundation

/// A stored deposit request, as created (`status` stays `created`: no customer visits the form).
struct DepositRequestRecord: Sendable {
    var id: String
    var input: DepositRequestInput
    var cashierToken: String
    var expirationTime: Date
    var createdTime: Date
    var updatedTime: Date
    /// Insertion order.
    var sequence: Int
    /// Made by another client of the organization (`--foreign-deposits`, `POST /_sandbox/deposit-requests`,
    /// `--history`).
    var foreign = false
    /// Made before the sandbox started (`--history`).
    var history = false
    /// Orders requests the sort cannot tell apart (one second of createdTime): a hash of the id,
    /// so neither id nor creation order can be relied on, as in Rebilly, where that order is undefined.
    var tieBreak: UInt64 { SeededRandom.hash(id) }

    var status: String { "created" }
    var key: CashierKey { CashierKey(customerId: input.customerId, websiteId: input.websiteId, currency: input.currency) }

    /// Rebilly's default strategy when no amounts are given: 10, 20, 30.
    static let defaultAmounts: [JSONValue] = [.number("10"), .number("20"), .number("30")]
    /// Rebilly's default custom amount: 1 to 10000 in steps of 1.
    static let defaultCustomAmount: JSONValue = .object([
        ("minimum", .number("1")), ("multipleOf", .number("1")), ("maximum", .number("10000")),
    ])

    /// The `DepositRequest` resource as the API returns it: the members of Rebilly's
    /// `DepositRequest` schema only (no strategyId, amountLimits or customPropertySetId; the
    /// token travels in the `deposit` link).
    func resource(links: ResourceLinks) -> JSONValue {
        let amounts: JSONValue = input.amounts.map { .array($0.map(\.json)) } ?? .array(Self.defaultAmounts)
        let customAmount: JSONValue
        switch input.customAmount {
        case .absent: customAmount = Self.defaultCustomAmount
        case .prohibited: customAmount = .null
        case .set(let c):
            customAmount = .object([("minimum", c.minimum.json), ("multipleOf", c.multipleOf.json), ("maximum", c.maximum.json)])
        }
        var members: [(String, JSONValue)] = [
            ("id", .string(id)),
            ("websiteId", .string(input.websiteId)),
            ("customerId", .string(input.customerId)),
            ("currency", .string(input.currency)),
            ("status", .string(status)),
            ("transactionIds", .array([])),
            ("amounts", amounts),
            ("customAmount", customAmount),
        ]
        if let redirectUrl = input.redirectUrl { members.append(("redirectUrl", .string(redirectUrl))) }
        members += [
            ("expirationTime", .string(Timestamps.format(expirationTime))),
            ("notificationUrl", .stringOrNull(input.notificationUrl)),
            ("propertiesSchema", .null),
            ("properties", .null),
            ("createdTime", .string(Timestamps.format(createdTime))),
            ("updatedTime", .string(Timestamps.format(updatedTime))),
            ("_links", .array([
                links.link("self", "/deposit-requests/\(id)"),
                .object([("rel", .string("deposit")), ("href", .string(links.baseURL + "/_sandbox/deposit-form/\(id)?token=\(cashierToken)"))]),
            ])),
        ]
        return .object(members)
    }
}
