/// JSON forms of a row: the API request bodies (money as exact JSON numbers) and the
/// canonical payload kept in the ledger and printed by `validate --json` (money as
/// exact decimal strings, so no reader can round it).
public enum MoneyStyle: Sendable { case number, string }

extension JSONWriter {
    mutating func money(_ name: String, _ value: Amount?, _ style: MoneyStyle) {
        guard let value else { return }
        switch style {
        case .number: amountNumber(name, value)
        case .string: amountString(name, value)
        }
    }

    mutating func range(_ name: String, _ range: AmountRange?, _ style: MoneyStyle) {
        guard let range else { return }
        beginObject(name)
        money("minimum", range.minimum, style)
        money("maximum", range.maximum, style)
        endObject()
    }

    /// Writes the members of a cashier into the current object; `figures: false` leaves out
    /// balance, bonusBalance and pendingPayoutTotal (read-only in Rebilly's API since 2026-07).
    public mutating func cashierMembers(_ c: CashierRequest, money style: MoneyStyle, figures: Bool = true) {
        string("websiteId", c.websiteId)
        string("customerId", c.customerId)
        string("currency", c.currency.code)
        if figures {
            money("balance", c.balance, style)
            money("bonusBalance", c.bonusBalance, style)
            money("pendingPayoutTotal", c.pendingPayoutTotal, style)
        }
        range("depositLimits", c.depositLimits, style)
        optionalString("redirectUrl", c.redirectUrl)
        optionalString("notificationUrl", c.notificationUrl)
    }

    /// Writes the members of a `POST /deposit-requests` body into the current object;
    /// `expirationTime` replaces the batch's (the job sets one unique to the row when it gives none).
    public mutating func depositMembers(_ d: DepositRequestSpec, for c: CashierRequest, money style: MoneyStyle,
                                        expirationTime: String? = nil) {
        string("websiteId", c.websiteId)
        string("customerId", c.customerId)
        string("currency", c.currency.code)
        optionalString("strategyId", d.strategyId)
        if let amounts = d.amounts {
            beginArray("amounts")
            for amount in amounts {
                switch style {
                case .number: amountNumber(nil, amount)
                case .string: amountString(nil, amount)
                }
            }
            endArray()
        }
        range("amountLimits", d.amountLimits, style)
        if let custom = d.customAmount {
            beginObject("customAmount")
            money("minimum", custom.minimum, style)
            money("maximum", custom.maximum, style)
            money("multipleOf", custom.multipleOf, style)
            endObject()
        }
        optionalString("redirectUrl", d.redirectUrl)
        optionalString("expirationTime", expirationTime ?? d.expirationTime)
        optionalString("customPropertySetId", d.customPropertySetId)
        optionalString("notificationUrl", d.notificationUrl)
    }
}

extension CashierRow {
    /// `POST /cashiers` body, money as exact JSON numbers. It never carries the batch's figures:
    /// a cashier's balance, bonusBalance and pendingPayoutTotal are Rebilly's (read-only).
    public var cashierBody: String {
        var w = JSONWriter()
        w.beginObject(); w.cashierMembers(cashier, money: .number, figures: false); w.endObject()
        return w.text
    }

    /// `POST /deposit-requests` body, money as exact JSON numbers, with `expirationTime`
    /// (RFC 3339) when the job sets it.
    public func depositRequestBody(expirationTime: String? = nil) -> String {
        var w = JSONWriter()
        w.beginObject(); w.depositMembers(deposit, for: cashier, money: .number, expirationTime: expirationTime); w.endObject()
        return w.text
    }

    /// The canonical payload: `{"cashier":{…},"depositRequest":{…}}`, money as exact decimal strings.
    public var payloadJSON: String {
        var w = JSONWriter()
        w.beginObject()
        w.beginObject("cashier"); w.cashierMembers(cashier, money: .string); w.endObject()
        w.beginObject("depositRequest"); w.depositMembers(deposit, for: cashier, money: .string); w.endObject()
        w.endObject()
        return w.text
    }
}

extension RawRecord {
    /// The original cells as a flat JSON object keyed by column name (absent cells left out),
    /// kept in the ledger so a row can be validated again and written back to `rejects.csv`.
    public var sourceJSON: String {
        var w = JSONWriter()
        w.beginObject()
        for field in Field.byIndex {
            guard let value = self[field] else { continue }
            Self.write(value, name: field.name, into: &w)
        }
        w.endObject()
        return w.text
    }

    static func write(_ value: RawValue, name: String?, into w: inout JSONWriter) {
        switch value {
        case let .text(text): w.string(name, text)
        case let .number(literal): w.number(name, literal: literal)
        case let .list(items):
            w.beginArray(name)
            for item in items { write(item, name: nil, into: &w) }
            w.endArray()
        case let .unexpected(kind): w.string(name, "<\(kind)>")
        }
    }

    /// Rebuilds a record from `sourceJSON` (the inverse of it for every readable record).
    public init(line: Int, sourceJSON: String) throws(JSONSyntaxError) {
        self.init(line: line)
        guard case let .object(members) = try JSONParser.parse(sourceJSON) else { return }
        for member in members {
            guard let field = Field(name: member.key) else {
                readIssues.append(FieldIssue(field: member.key, message: "unknown field"))
                continue
            }
            self[field] = Self.raw(member.value)
        }
    }

    static func raw(_ value: JSONValue) -> RawValue? {
        switch value {
        case .null: return nil
        case let .string(text): return .text(text)
        case let .number(literal): return .number(literal)
        case let .array(items): return .list(items.map { raw($0) ?? .unexpected(kind: "null") })
        case .bool, .object: return .unexpected(kind: value.kindDescription)
        }
    }
}
