/// The typed request of a valid row as the ledger keeps it (`rows.request`): what the sender
/// sends and the reconciler compares, read back exactly, with no validation again.
///
/// A JSON array with one element per batch column after the row's key, in storage-index order
/// (``RowRequest/fields``): money as exact decimal text at the currency's exponent,
/// `deposit.amounts` a list of such texts, `null` for an absent field, trailing absent fields left
/// out. The ledger's view `row_requests` names the elements. The key (websiteId, customerId,
/// currency) is not in it: the ledger keeps the key in columns.
public enum RowRequest {
    /// The columns of a request, in the order of its elements.
    public static let fields: [Field] = Field.byIndex.filter { !Field.required.contains($0) }

    /// The request text of `row`.
    public static func encode(_ row: CashierRow) -> String {
        let record = RawRecord(row: row)
        return array(fields.map { record[$0] })
    }

    /// The request array of these values, one per ``fields`` element: `null` for nil, trailing nils left out.
    private static func array(_ values: [RawValue?]) -> String {
        let last = values.lastIndex(where: { $0 != nil }) ?? -1
        var w = JSONWriter()
        w.beginArray()
        for value in values.prefix(last + 1) {
            if let value { RawRecord.write(value, name: nil, into: &w) } else { w.null() }
        }
        w.endArray()
        return w.text
    }

    /// A request kept as a JSON object keyed by column name (ledgers before v11) as the positional
    /// array of ``encode(_:)``; an array is returned unchanged.
    public static func positional(keyed text: String) throws -> String {
        let parsed = try JSONParser.parse(text)
        if parsed.arrayValue != nil { return text }
        guard case let .object(members) = parsed else { throw JSONSyntaxError(offset: 0, reason: "a request is an object or an array") }
        var values = [RawValue?](repeating: nil, count: fields.count)
        for member in members {
            guard let field = Field(name: member.key), let position = fields.firstIndex(of: field) else {
                throw JSONSyntaxError(offset: 0, reason: "'\(member.key)' is not a request field")
            }
            values[position] = RawRecord.raw(member.value)
        }
        return array(values)
    }

    /// The row staged at `line` with `key` and this request; nil when the text is not an
    /// encoding of a request or the currency is not one the job knows.
    public static func decode(_ request: String, line: Int, key: RowKey) -> CashierRow? {
        guard let currency = Currency(code: key.currency),
              case let .array(elements)? = try? JSONParser.parse(request), elements.count <= fields.count else { return nil }
        var values = [JSONValue?](repeating: nil, count: Field.allCases.count)
        for (position, element) in elements.enumerated() where element != .null {
            values[fields[position].rawValue] = element
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
