/// A column of the batch contract: CSV header names and JSON Lines dot paths are the same.
///
/// The raw value is the field's storage index: its place in a stored request (`rows.request`,
/// ``RowRequest``'s positional array, read by the ledger's views at `$[index]`). Indices are
/// append-only: a new field takes the next one, and none is ever renumbered or reused
/// (`FieldTests` pins every one). The declaration order does not matter.
public enum Field: Int, CaseIterable, Sendable {
    case websiteId = 0, customerId = 1, currency = 2
    case balance = 3, bonusBalance = 4, pendingPayoutTotal = 5
    case depositLimitsMinimum = 6, depositLimitsMaximum = 7
    case redirectUrl = 8, notificationUrl = 9
    case depositStrategyId = 10, depositAmounts = 11
    case depositCustomAmountMinimum = 12, depositCustomAmountMaximum = 13, depositCustomAmountMultipleOf = 14
    case depositAmountLimitsMinimum = 15, depositAmountLimitsMaximum = 16
    case depositRedirectUrl = 17, depositNotificationUrl = 18, depositExpirationTime = 19, depositCustomPropertySetId = 20

    /// The column name in CSV and the dot path in JSON Lines.
    public var name: String {
        switch self {
        case .websiteId: "websiteId"
        case .customerId: "customerId"
        case .currency: "currency"
        case .balance: "balance"
        case .bonusBalance: "bonusBalance"
        case .pendingPayoutTotal: "pendingPayoutTotal"
        case .depositLimitsMinimum: "depositLimits.minimum"
        case .depositLimitsMaximum: "depositLimits.maximum"
        case .redirectUrl: "redirectUrl"
        case .notificationUrl: "notificationUrl"
        case .depositStrategyId: "deposit.strategyId"
        case .depositAmounts: "deposit.amounts"
        case .depositCustomAmountMinimum: "deposit.customAmount.minimum"
        case .depositCustomAmountMaximum: "deposit.customAmount.maximum"
        case .depositCustomAmountMultipleOf: "deposit.customAmount.multipleOf"
        case .depositAmountLimitsMinimum: "deposit.amountLimits.minimum"
        case .depositAmountLimitsMaximum: "deposit.amountLimits.maximum"
        case .depositRedirectUrl: "deposit.redirectUrl"
        case .depositNotificationUrl: "deposit.notificationUrl"
        case .depositExpirationTime: "deposit.expirationTime"
        case .depositCustomPropertySetId: "deposit.customPropertySetId"
        }
    }

    /// Every field by storage index (arrays indexed by `rawValue` follow this order).
    public static let byIndex: [Field] = allCases.sorted { $0.rawValue < $1.rawValue }

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
