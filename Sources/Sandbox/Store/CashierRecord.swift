import Foundation

/// A stored cashier. Its figures are Rebilly's: exact numbers that only the preload file and the
/// sandbox's figures endpoint set (the day's activity on Rebilly's side), never a create.
struct CashierRecord: Sendable {
    var id: String
    var customerId: String
    var websiteId: String
    var currency: String
    var balance: ExactNumber
    var bonusBalance: ExactNumber
    var pendingPayoutTotal: ExactNumber
    /// Whether the customer may withdraw now, as Rebilly reports it.
    var canWithdraw: Bool
    var depositLimits: CashierInput.DepositLimits?
    var redirectUrl: String?
    var notificationUrl: String?
    var expirationTime: Date?
    var createdTime: Date
    var updatedTime: Date
    /// True for cashiers loaded with `--preload`.
    var preloaded: Bool

    var key: CashierKey { CashierKey(customerId: customerId, websiteId: websiteId, currency: currency) }

    /// The `Cashier` resource as the API returns it (`depositLimits` is write-only, so absent;
    /// the optional `lastDepositRequestId` and `cashierToken` are left out).
    func resource(links: ResourceLinks) -> JSONValue {
        .object([
            ("id", .string(id)),
            ("customerId", .string(customerId)),
            ("websiteId", .string(websiteId)),
            ("currency", .string(currency)),
            ("balance", balance.json),
            ("bonusBalance", bonusBalance.json),
            ("pendingPayoutTotal", pendingPayoutTotal.json),
            ("canWithdraw", .bool(canWithdraw)),
            ("redirectUrl", .stringOrNull(redirectUrl)),
            ("notificationUrl", .stringOrNull(notificationUrl)),
            ("expirationTime", .stringOrNull(expirationTime.map(Timestamps.format))),
            ("createdTime", .string(Timestamps.format(createdTime))),
            ("updatedTime", .string(Timestamps.format(updatedTime))),
            ("_links", .array([links.link("self", "/cashiers/\(id)")])),
        ])
    }

    /// The full stored state, for `GET /_sandbox/cashiers`.
    func inspection() -> JSONValue {
        var limits = JSONValue.null
        if let depositLimits {
            limits = .object([
                ("minimum", depositLimits.minimum?.json ?? .null),
                ("maximum", depositLimits.maximum?.json ?? .null),
            ])
        }
        guard case .object(var members) = resource(links: ResourceLinks(baseURL: "", pathPrefix: "")) else { return .null }
        members.removeLast()  // _links
        members.append(("depositLimits", limits))
        members.append(("preloaded", .bool(preloaded)))
        return .object(members)
    }
}

/// The identity Rebilly gives a cashier: one per (customerId, websiteId, currency).
struct CashierKey: Hashable, Sendable, Comparable {
    var customerId: String
    var websiteId: String
    var currency: String

    static func < (a: CashierKey, b: CashierKey) -> Bool {
        (a.customerId, a.websiteId, a.currency) < (b.customerId, b.websiteId, b.currency)
    }
}

/// Builds absolute `_links` / `Location` URLs for the organization path a request used.
struct ResourceLinks: Sendable {
    var baseURL: String
    var pathPrefix: String

    func url(_ path: String) -> String { baseURL + pathPrefix + path }

    func link(_ rel: String, _ path: String) -> JSONValue {
        .object([("rel", .string(rel)), ("href", .string(url(path)))])
    }
}
