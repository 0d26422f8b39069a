/// The typed request of a valid row as the ledger keeps it (`rows.request`): what the sender
/// sends and the reconciler compares, read back exactly, with no validation again.
///
/// A flat JSON object keyed by the batch's column names, so `sqlite3` can read it: money as
/// exact decimal text at the currency's exponent, `deposit.amounts` a list of such texts, absent
/// fields left out. The row's key (websiteId, customerId, currency) is not in it: the ledger
/// keeps the key in columns.
public enum RowRequest {
    /// The request text of `row`.
    public static func encode(_ row: CashierRow) -> String {
        var record = RawRecord(row: row)
        for field in Field.required { record[field] = nil }
        return record.sourceJSON
    }

    /// The row staged at `line` with `key` and this request; nil when the text is not an
    /// encoding of a request or the currency is not one the job knows.
    public static func decode(_ request: String, line: Int, key: RowKey) -> CashierRow? {
        guard let currency = Currency(code: key.currency),
              case let .object(members)? = try? JSONParser.parse(request) else { return nil }
        var values = [JSONValue?](repeating: nil, count: Field.allCases.count)
        for member in members {
            guard let field = Field(name: member.key), !Field.required.contains(field),
                  values[field.rawValue] == nil else { return nil }
            values[field.rawValue] = member.value
        }
        var broken = false
        func amount(_ value: JSONValue?) -> Amount? {
            guard let value else { return nil }
            guard let text = value.stringValue, case let .success(amount) = Amount.parse(Substring(text), exponent: currency.exponent) else {
                broken = true
                return nil
            }
            return amount
        }
        func amount(_ field: Field) -> Amount? { amount(values[field.rawValue]) }
        func text(_ field: Field) -> String? {
            guard let value = values[field.rawValue] else { return nil }
            guard let text = value.stringValue else { broken = true; return nil }
            return text
        }
        func range(_ minimum: Field, _ maximum: Field) -> AmountRange? {
            let low = amount(minimum), high = amount(maximum)
            return low == nil && high == nil ? nil : AmountRange(minimum: low, maximum: high)
        }
        var amounts: [Amount]?
        if let list = values[Field.depositAmounts.rawValue] {
            guard let items = list.arrayValue else { return nil }
            amounts = items.compactMap { amount($0) }
        }
        let customParts = [Field.depositCustomAmountMinimum, .depositCustomAmountMaximum, .depositCustomAmountMultipleOf].map(amount)
        var custom: CustomAmount?
        if let minimum = customParts[0], let maximum = customParts[1], let multipleOf = customParts[2] {
            custom = CustomAmount(minimum: minimum, maximum: maximum, multipleOf: multipleOf)
        } else if customParts.contains(where: { $0 != nil }) {
            return nil
        }
        let cashier = CashierRequest(
            websiteId: key.websiteId, customerId: key.customerId, currency: currency,
            balance: amount(.balance), bonusBalance: amount(.bonusBalance), pendingPayoutTotal: amount(.pendingPayoutTotal),
            depositLimits: range(.depositLimitsMinimum, .depositLimitsMaximum),
            redirectUrl: text(.redirectUrl), notificationUrl: text(.notificationUrl))
        let deposit = DepositRequestSpec(
            strategyId: text(.depositStrategyId), amounts: amounts, customAmount: custom,
            amountLimits: range(.depositAmountLimitsMinimum, .depositAmountLimitsMaximum),
            redirectUrl: text(.depositRedirectUrl), notificationUrl: text(.depositNotificationUrl),
            expirationTime: text(.depositExpirationTime), customPropertySetId: text(.depositCustomPropertySetId))
        return broken ? nil : CashierRow(line: line, cashier: cashier, deposit: deposit)
    }
}

extension RawRecord {
    /// A valid row written back as batch cells: the key, money as exact decimal text at the
    /// currency's exponent, `deposit.amounts` as a list. Validating it gives `row` again.
    public init(row: CashierRow) {
        self.init(line: row.line)
        let c = row.cashier, d = row.deposit
        func put(_ field: Field, _ amount: Amount?) { if let amount { self[field] = .text(amount.description) } }
        func put(_ field: Field, _ text: String?) { if let text { self[field] = .text(text) } }
        put(.websiteId, c.websiteId)
        put(.customerId, c.customerId)
        put(.currency, c.currency.code)
        put(.balance, c.balance)
        put(.bonusBalance, c.bonusBalance)
        put(.pendingPayoutTotal, c.pendingPayoutTotal)
        put(.depositLimitsMinimum, c.depositLimits?.minimum)
        put(.depositLimitsMaximum, c.depositLimits?.maximum)
        put(.redirectUrl, c.redirectUrl)
        put(.notificationUrl, c.notificationUrl)
        put(.depositStrategyId, d.strategyId)
        if let amounts = d.amounts { self[.depositAmounts] = .list(amounts.map { .text($0.description) }) }
        put(.depositCustomAmountMinimum, d.customAmount?.minimum)
        put(.depositCustomAmountMaximum, d.customAmount?.maximum)
        put(.depositCustomAmountMultipleOf, d.customAmount?.multipleOf)
        put(.depositAmountLimitsMinimum, d.amountLimits?.minimum)
        put(.depositAmountLimitsMaximum, d.amountLimits?.maximum)
        put(.depositRedirectUrl, d.redirectUrl)
        put(.depositNotificationUrl, d.notificationUrl)
        put(.depositExpirationTime, d.expirationTime)
        put(.depositCustomPropertySetId, d.customPropertySetId)
    }
}
