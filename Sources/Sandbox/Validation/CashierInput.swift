import Foundation

/// A `PostCashier` body that passed validation.
struct CashierInput: Sendable {
    var customerId: String
    var websiteId: String
    var currency: String
    var balance: ExactNumber?
    var bonusBalance: ExactNumber?
    var pendingPayoutTotal: ExactNumber?
    var depositLimits: DepositLimits?
    var redirectUrl: String?
    var notificationUrl: String?

    /// `depositLimits` (write-only on Rebilly's side; the sandbox keeps it for inspection).
    struct DepositLimits: Sendable, Equatable {
        var minimum: ExactNumber?
        var maximum: ExactNumber?
    }

    static let allowedFields = [
        "customerId", "websiteId", "currency", "redirectUrl", "balance", "bonusBalance",
        "depositLimits", "notificationUrl", "pendingPayoutTotal",
    ]

    static let figureFields = ["balance", "bonusBalance", "pendingPayoutTotal"]

    /// How the body's three figures are taken: set the cashier's (the preload file, which speaks
    /// for Rebilly's side), or read-only (the API) with a policy for a client that sends them anyway.
    enum Figures: Sendable {
        case settable
        case readOnly(ReadonlyFieldsPolicy)
    }

    /// Validates a request body against the `PostCashier` schema.
    /// `extraFields` lets the preload file carry ids and timestamps too.
    static func validate(_ body: JSONValue, figures: Figures, extraFields: [String] = []) throws(ValidationFailure) -> CashierInput {
        var v = BodyValidator()
        guard let members = v.object(body, at: "body") else { throw ValidationFailure(fields: v.errors) }
        v.rejectUnknown(members, allowed: allowedFields + extraFields, prefix: "")

        let customerId = v.string(body, "customerId", required: true, maxLength: 50, nonEmpty: true)
        let websiteId = v.string(body, "websiteId", required: true, maxLength: 50, nonEmpty: true)
        let currency = v.currency(body, "currency")
        let redirectUrl = v.uri(body, "redirectUrl")
        let notificationUrl = v.uri(body, "notificationUrl")
        var balance: ExactNumber?, bonusBalance: ExactNumber?, pendingPayoutTotal: ExactNumber?
        switch figures {
        case .settable:
            balance = v.number(body, "balance", minimum: 0)
            bonusBalance = v.number(body, "bonusBalance", minimum: 0)
            pendingPayoutTotal = v.number(body, "pendingPayoutTotal", minimum: 0)
        case .readOnly(.reject):
            for field in figureFields where body[field] != nil {
                v.fail(field, "\(field) is read-only: Rebilly computes it (since 2026-07-20)")
            }
        case .readOnly(.ignore):
            break
        }

        var limits: DepositLimits?
        if let raw = body["depositLimits"], let limitMembers = v.object(raw, at: "depositLimits") {
            v.rejectUnknown(limitMembers, allowed: ["minimum", "maximum"], prefix: "depositLimits.")
            let minimum = v.number(raw, "minimum", prefix: "depositLimits.", minimum: .oneCent)
            let maximum = v.number(raw, "maximum", prefix: "depositLimits.", minimum: 0)
            if let minimum, let maximum, maximum.value < minimum.value {
                v.fail("depositLimits.maximum", "depositLimits.maximum must be greater than or equal to depositLimits.minimum")
            }
            limits = DepositLimits(minimum: minimum, maximum: maximum)
        }

        guard v.errors.isEmpty, let customerId, let websiteId, let currency else {
            throw ValidationFailure(fields: v.errors)
        }
        return CashierInput(
            customerId: customerId, websiteId: websiteId, currency: currency,
            balance: balance, bonusBalance: bonusBalance, pendingPayoutTotal: pendingPayoutTotal,
            depositLimits: limits, redirectUrl: redirectUrl, notificationUrl: notificationUrl
        )
    }
}
