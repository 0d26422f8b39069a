import Foundation
import CashierModel

extension Cashier {
    /// Decodes a cashier object; money members are kept as their number text, times parsed once.
    public static func decode(_ json: JSONValue) throws(DecodingFailure) -> Cashier {
        guard case .object = json else { throw DecodingFailure("a cashier must be a JSON object, got \(json.kindDescription)") }
        let currency = try requiredString(json, "currency")
        return Cashier(
            id: try requiredString(json, "id"),
            customerId: try requiredString(json, "customerId"),
            websiteId: try requiredString(json, "websiteId"),
            currency: currency,
            balance: try money(json, "balance", currency: currency),
            bonusBalance: try money(json, "bonusBalance", currency: currency),
            pendingPayoutTotal: try money(json, "pendingPayoutTotal", currency: currency),
            canWithdraw: try flag(json, "canWithdraw"),
            createdTime: try time(json, "createdTime")
        )
    }
}

extension DepositRequest {
    /// Decodes a deposit-request object of either generation.
    public static func decode(_ json: JSONValue) throws(DecodingFailure) -> DepositRequest {
        guard case .object = json else { throw DecodingFailure("a deposit request must be a JSON object, got \(json.kindDescription)") }
        let id = try requiredString(json, "id")
        var transactionIds: [String] = []
        let legacy: Bool
        if let list = json["transactionIds"], list != .null {
            guard let items = list.arrayValue else { throw DecodingFailure("transactionIds must be an array") }
            for item in items {
                guard let text = item.stringValue else { throw DecodingFailure("transactionIds must hold strings") }
                transactionIds.append(text)
            }
            legacy = id.hasPrefix("cash_req_")
        } else if let single = json["transactionId"] {
            switch single {
            case .null: break
            case let .string(text): transactionIds = [text]
            default: throw DecodingFailure("transactionId must be a string or null")
            }
            legacy = true
        } else {
            legacy = id.hasPrefix("cash_req_")
        }
        return DepositRequest(
            id: id,
            generation: legacy ? .legacyCashierRequest : .depositRequest,
            status: json["status"]?.stringValue,
            transactionIds: transactionIds,
            customerId: try requiredString(json, "customerId"),
            websiteId: try requiredString(json, "websiteId"),
            currency: try requiredString(json, "currency"),
            depositURL: link(json["_links"], rel: "deposit"),
            createdTime: try time(json, "createdTime"),
            terms: try terms(json)
        )
    }

    /// The client-set members, kept as Rebilly wrote them (money as number text).
    static func terms(_ json: JSONValue) throws(DecodingFailure) -> DepositTerms {
        func number(_ value: JSONValue?, _ name: String) throws(DecodingFailure) -> String? {
            switch value {
            case nil, .null?: return nil
            case let value?:
                guard let text = value.numberText else { throw DecodingFailure("\(name) must be a number") }
                return text
            }
        }
        var terms = DepositTerms()
        switch json["amounts"] {
        case nil, .null?: break
        case let list?:
            guard let items = list.arrayValue else { throw DecodingFailure("amounts must be an array") }
            var texts: [String] = []
            for item in items { if let text = try number(item, "amounts[]") { texts.append(text) } }
            terms.amounts = texts
        }
        terms.defaultAmount = try number(json["defaultAmount"], "defaultAmount")
        if let custom = json["customAmount"], custom != .null {
            var members: [String: String] = [:]
            for name in ["minimum", "maximum", "multipleOf"] {
                if let text = try number(custom[name], "customAmount.\(name)") { members[name] = text }
            }
            terms.customAmount = members
        }
        terms.redirectUrl = json["redirectUrl"]?.stringValue
        terms.notificationUrl = json["notificationUrl"]?.stringValue
        terms.expirationTime = try time(json, "expirationTime")
        return terms
    }

    /// `_links` is an array of `{rel, href}`; a `{rel: {href}}` object is tolerated too.
    static func link(_ links: JSONValue?, rel: String) -> String? {
        switch links {
        case let .array(items)?:
            return items.first(where: { $0["rel"]?.stringValue == rel })?["href"]?.stringValue
        case let .object(members)?:
            guard let value = members.first(where: { $0.key == rel })?.value else { return nil }
            return value.stringValue ?? value["href"]?.stringValue
        default:
            return nil
        }
    }
}

/// Why a response body could not be decoded.
public struct DecodingFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `POST /cashiers` or `GET /cashiers/{id}`, answered.
public struct CashierResult: Sendable, Hashable {
    /// 201 made a new cashier; 200 returned the existing one, unchanged.
    public enum Outcome: String, Sendable, Hashable { case created, retrieved }

    public var cashier: Cashier
    /// The HTTP status (200 or 201).
    public var status: Int
    public var outcome: Outcome
    /// `Location` header (201).
    public var location: String?
    public var rateLimit: RateLimitInfo
    public var latency: Duration

    public var id: String { cashier.id }
}

/// `POST /deposit-requests` or `GET /deposit-requests/{id}`, answered.
public struct DepositRequestResult: Sendable, Hashable {
    public var depositRequest: DepositRequest
    /// The HTTP status (201 for a create).
    public var status: Int
    public var location: String?
    public var rateLimit: RateLimitInfo
    public var latency: Duration

    public var id: String { depositRequest.id }
}

/// One page of `GET /deposit-requests`.
public struct DepositRequestPage: Sendable, Hashable {
    public var items: [DepositRequest]
    /// `Pagination-Total`: matches in all pages.
    public var total: Int?
    /// `Pagination-Limit` / `Pagination-Offset` as the server applied them.
    public var limit: Int?
    public var offset: Int?
    public var rateLimit: RateLimitInfo
    public var latency: Duration
}

// MARK: - helpers

func requiredString(_ json: JSONValue, _ key: String) throws(DecodingFailure) -> String {
    guard let value = json[key] else { throw DecodingFailure("\(key) is missing") }
    guard let text = value.stringValue else { throw DecodingFailure("\(key) must be a string, got \(value.kindDescription)") }
    return text
}

/// An RFC 3339 time member (absent or null: nil; anything else that is not one: an error).
func time(_ json: JSONValue, _ key: String) throws(DecodingFailure) -> Date? {
    switch json[key] {
    case nil, .null?: return nil
    case let .string(text)?:
        guard let date = RFC3339.date(text) else { throw DecodingFailure("\(key) \"\(text)\" is not an RFC 3339 date-time") }
        return date
    case let other?: throw DecodingFailure("\(key) must be a string, got \(other.kindDescription)")
    }
}

/// A boolean member (absent or null: nil).
func flag(_ json: JSONValue, _ key: String) throws(DecodingFailure) -> Bool? {
    switch json[key] {
    case nil, .null?: return nil
    case let .bool(value)?: return value
    case let other?: throw DecodingFailure("\(key) must be a boolean, got \(other.kindDescription)")
    }
}

func money(_ json: JSONValue, _ key: String, currency: String) throws(DecodingFailure) -> ReportedMoney? {
    switch json[key] {
    case nil, .null?: return nil
    case let .number(text)?: return ReportedMoney(text: text, currency: currency)
    case let .string(text)?: return ReportedMoney(text: text, currency: currency)
    case let other?: throw DecodingFailure("\(key) must be a number, got \(other.kindDescription)")
    }
}

/// An answered call: what the ledger records about it and what the rate limiter reads.
public protocol Answered: Sendable {
    /// The HTTP status (2xx).
    var status: Int { get }
    var rateLimit: RateLimitInfo { get }
    var latency: Duration { get }
}

extension CashierResult: Answered {}
extension DepositRequestResult: Answered {}
extension DepositRequestPage: Answered {
    /// A page is always a 200.
    public var status: Int { 200 }
}
