import Foundation

/// A `PostDepositRequest` body that passed validation.
struct DepositRequestInput: Sendable {
    var websiteId: String
    var customerId: String
    var currency: String
    var strategyId: String?
    /// nil when absent or null: the default strategy's amounts apply.
    var amounts: [ExactNumber]?
    var amountLimits: AmountLimits?
    var customAmount: CustomAmountField
    var redirectUrl: String?
    var expirationTime: Date?
    var customPropertySetId: String?
    var notificationUrl: String?

    struct AmountLimits: Sendable, Equatable {
        var minimum: ExactNumber?
        var maximum: ExactNumber?
    }

    struct CustomAmount: Sendable, Equatable {
        var minimum: ExactNumber
        var multipleOf: ExactNumber
        var maximum: ExactNumber
    }

    /// `customAmount` has three states: absent (strategy default), null (custom amounts prohibited), set.
    enum CustomAmountField: Sendable, Equatable {
        case absent
        case prohibited
        case set(CustomAmount)
    }

    static let allowedFields = [
        "websiteId", "customerId", "strategyId", "currency", "amounts", "amountLimits",
        "customAmount", "redirectUrl", "expirationTime", "customPropertySetId", "notificationUrl",
    ]

    /// Validates a request body against the `PostDepositRequest` schema and the rule
    /// `customAmount.maximum = minimum + k·multipleOf` (k > 0), checked exactly in decimal.
    static func validate(_ body: JSONValue) throws(ValidationFailure) -> DepositRequestInput {
        var v = BodyValidator()
        guard let members = v.object(body, at: "body") else { throw ValidationFailure(fields: v.errors) }
        v.rejectUnknown(members, allowed: allowedFields, prefix: "")

        let websiteId = v.string(body, "websiteId", required: true, maxLength: 50, nonEmpty: true)
        let customerId = v.string(body, "customerId", required: true, maxLength: 50, nonEmpty: true)
        let currency = v.currency(body, "currency")
        let strategyId = v.string(body, "strategyId", nullable: true, maxLength: 50)
        let redirectUrl = v.uri(body, "redirectUrl")
        let notificationUrl = v.uri(body, "notificationUrl")
        let expirationTime = v.dateTime(body, "expirationTime")
        let customPropertySetId = v.string(body, "customPropertySetId", nullable: true, maxLength: 50)

        var amounts: [ExactNumber]?
        switch body["amounts"] {
        case nil, .null?: break
        case .array(let items)?:
            amounts = items.enumerated().compactMap { index, item in
                v.number(item, at: "amounts.\(index)", minimum: .oneCent)
            }
        case _?: v.fail("amounts", "amounts must be an array")
        }

        var amountLimits: AmountLimits?
        switch body["amountLimits"] {
        case nil, .null?: break
        case let raw?:
            if let limitMembers = v.object(raw, at: "amountLimits") {
                v.rejectUnknown(limitMembers, allowed: ["minimum", "maximum"], prefix: "amountLimits.")
                if limitMembers.isEmpty { v.fail("amountLimits", "amountLimits must have at least 1 property") }
                let minimum = v.number(raw, "minimum", prefix: "amountLimits.", nullable: true, minimum: 0)
                let maximum = v.number(raw, "maximum", prefix: "amountLimits.", nullable: true, minimum: 0)
                if let minimum, let maximum, maximum.value < minimum.value {
                    v.fail("amountLimits.maximum", "amountLimits.maximum must be greater than or equal to amountLimits.minimum")
                }
                amountLimits = AmountLimits(minimum: minimum, maximum: maximum)
            }
        }

        var customAmount = CustomAmountField.absent
        switch body["customAmount"] {
        case nil: break
        case .null?: customAmount = .prohibited
        case let raw?:
            if let customMembers = v.object(raw, at: "customAmount") {
                v.rejectUnknown(customMembers, allowed: ["minimum", "multipleOf", "maximum"], prefix: "customAmount.")
                let minimum = v.number(raw, "minimum", prefix: "customAmount.", required: true, minimum: .oneCent)
                let multipleOf = v.number(raw, "multipleOf", prefix: "customAmount.", required: true, minimum: .oneCent)
                let maximum = v.number(raw, "maximum", prefix: "customAmount.", required: true, minimum: .oneCent)
                if let minimum, let multipleOf, let maximum {
                    // maximum = minimum + k·multipleOf with k a positive integer, exactly.
                    let steps = (maximum.value - minimum.value) / multipleOf.value
                    if steps <= 0 || !steps.isWholeNumber || minimum.value + steps * multipleOf.value != maximum.value {
                        v.fail("customAmount.maximum", "customAmount.maximum must equal customAmount.minimum plus a positive whole multiple of customAmount.multipleOf")
                    } else {
                        customAmount = .set(CustomAmount(minimum: minimum, multipleOf: multipleOf, maximum: maximum))
                    }
                }
            }
        }

        guard v.errors.isEmpty, let websiteId, let customerId, let currency else {
            throw ValidationFailure(fields: v.errors)
        }
        return DepositRequestInput(
            websiteId: websiteId, customerId: customerId, currency: currency, strategyId: strategyId,
            amounts: amounts, amountLimits: amountLimits, customAmount: customAmount,
            redirectUrl: redirectUrl, expirationTime: expirationTime,
            customPropertySetId: customPropertySetId, notificationUrl: notificationUrl
        )
    }
}
