/// A column of the batch contract: CSV header names and JSON Lines dot paths are the same.
public enum Field: Int, CaseIterable, Sendable {
    case websiteId, customerId, currency
    case balance, bonusBalance, pendingPayoutTotal
    case depositLimitsMinimum, depositLimitsMaximum
    case redirectUrl, notificationUrl
    case depositStrategyId, depositAmounts
    case depositCustomAmountMinimum, depositCustomAmountMaximum, depositCustomAmountMultipleOf
    case depositAmountLimitsMinimum, depositAmountLimitsMaximum
    case depositRedirectUrl, depositNotificationUrl, depositExpirationTime, depositCustomPropertySetId

    /// The column name in CSV and the dot path in JSON Lines.
    public var name: String { Field.names[rawValue] }

    /// Looks a column name / dot path up; nil for an unknown one.
    public init?(name: String) {
        guard let field = Field.byName[name] else { return nil }
        self = field
    }

    /// The fields that must be present in every row.
    public static let required: [Field] = [.websiteId, .customerId, .currency]

    /// Fields that hold money (single amounts; `deposit.amounts` is a list and is handled apart).
    public var isMoney: Bool {
        switch self {
        case .balance, .bonusBalance, .pendingPayoutTotal, .depositLimitsMinimum, .depositLimitsMaximum,
             .depositCustomAmountMinimum, .depositCustomAmountMaximum, .depositCustomAmountMultipleOf,
             .depositAmountLimitsMinimum, .depositAmountLimitsMaximum:
            return true
        default:
            return false
        }
    }

    static let names: [String] = [
        "websiteId", "customerId", "currency",
        "balance", "bonusBalance", "pendingPayoutTotal",
        "depositLimits.minimum", "depositLimits.maximum",
        "redirectUrl", "notificationUrl",
        "deposit.strategyId", "deposit.amounts",
        "deposit.customAmount.minimum", "deposit.customAmount.maximum", "deposit.customAmount.multipleOf",
        "deposit.amountLimits.minimum", "deposit.amountLimits.maximum",
        "deposit.redirectUrl", "deposit.notificationUrl", "deposit.expirationTime", "deposit.customPropertySetId",
    ]

    static let byName: [String: Field] = {
        var map: [String: Field] = [:]
        for field in Field.allCases { map[field.name] = field }
        return map
    }()
}

/// One problem with one field of one row, as an operator reads it: `file:line: field: message`.
public struct FieldIssue: Hashable, Sendable, Codable {
    /// The column / dot path, or `row` for a problem with the record as a whole.
    public var field: String
    public var message: String

    /// Both are made printable (see ``Printable``): they may carry a batch's keys and cells.
    public init(field: String, message: String) {
        self.field = Printable.text(field)
        self.message = Printable.text(message, limit: 1_000)
    }
}

extension FieldIssue {
    /// `[{"field":…, "message":…}, …]`: a row's reasons as the ledger keeps them (`rows.reasons_json`).
    public static func json(_ issues: [FieldIssue]) -> String {
        var w = JSONWriter()
        w.beginArray()
        for issue in issues {
            w.beginObject(); w.string("field", issue.field); w.string("message", issue.message); w.endObject()
        }
        w.endArray()
        return w.text
    }

    /// The issues of a ``json(_:)`` text; a text that is not one becomes one `row` issue.
    public static func issues(json text: String) -> [FieldIssue] {
        guard let json = try? JSONParser.parse(text), let items = json.arrayValue else {
            return text.isEmpty || text == "[]" ? [] : [FieldIssue(field: "row", message: text)]
        }
        return items.compactMap { item in
            guard let message = item["message"]?.stringValue else { return nil }
            return FieldIssue(field: item["field"]?.stringValue ?? "row", message: message)
        }
    }
}
