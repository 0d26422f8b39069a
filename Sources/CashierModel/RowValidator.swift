/// Turns a `RawRecord` into a typed `CashierRow` or a rejection listing every problem.
///
/// The rules are the API schema's plus the money rules: required fields, ids ≤ 50
/// characters, active ISO 4217 currency (unknown fails closed), amounts ≥ 0 with no
/// more decimals than the currency has, deposit limits and amounts consistent,
/// customAmount maximum = minimum + k·multipleOf, absolute http(s) URLs, RFC 3339 time.
/// Duplicates across rows are the business of `BatchValidator`.
public struct RowValidator: Sendable {
    /// `Currency.packedTable`, held so the byte-level check reads no lazy global per row.
    let currencyTable: [Int16]

    public init() { currencyTable = Currency.packedTable }

    public func validate(_ record: RawRecord) -> RowVerdict {
        if record.unreadable { return .rejected(line: record.line, issues: record.readIssues) }
        var issues = record.readIssues
        func fail(_ field: Field, _ message: String) { issues.append(FieldIssue(field: field.name, message: message)) }

        // Identity fields.
        let websiteId = requiredText(record, .websiteId, &issues)
        let customerId = requiredText(record, .customerId, &issues)
        let currencyText = requiredText(record, .currency, &issues)
        var currency: Currency?
        if let currencyText {
            let trimmed = currencyText
            if let known = Currency(code: trimmed) {
                currency = known
            } else if trimmed.utf8.count == 3, let upper = Currency(code: trimmed.uppercased()) {
                fail(.currency, "must be upper-case: \(upper.code), not \(trimmed)")
            } else if trimmed.utf8.count != 3 || !trimmed.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) {
                fail(.currency, "must be a 3-letter ISO 4217 code (got \"\(trimmed)\")")
            } else {
                fail(.currency, "unknown currency code \(trimmed) (not an active ISO 4217 code with a minor unit)")
            }
        }
        // Without a currency the exponent is unknown: still check the syntax of money
        // (at the largest exponent) so that every problem of the row is reported.
        let exponent = currency?.exponent ?? 4
        let code = currency?.code

        func money(_ field: Field, atLeastOneHundredth: Bool = false) -> Amount? {
            guard let value = record[field] else { return nil }
            return amount(value, field: field.name, exponent: exponent, currency: code,
                          atLeastOneHundredth: atLeastOneHundredth, issues: &issues)
        }

        let balance = money(.balance)
        let bonusBalance = money(.bonusBalance)
        let pendingPayoutTotal = money(.pendingPayoutTotal)
        let limitsMinimum = money(.depositLimitsMinimum, atLeastOneHundredth: true)
        let limitsMaximum = money(.depositLimitsMaximum)
        if let limitsMinimum, let limitsMaximum, limitsMinimum > limitsMaximum {
            fail(.depositLimitsMinimum, "\(limitsMinimum) is greater than depositLimits.maximum \(limitsMaximum)")
        }
        let depositLimits: AmountRange? = (record[.depositLimitsMinimum] == nil && record[.depositLimitsMaximum] == nil)
            ? nil : AmountRange(minimum: limitsMinimum, maximum: limitsMaximum)

        let redirectUrl = url(record, .redirectUrl, &issues)
        let notificationUrl = url(record, .notificationUrl, &issues)

        // Deposit request.
        let strategyId = optionalId(record, .depositStrategyId, &issues)
        let customPropertySetId = optionalId(record, .depositCustomPropertySetId, &issues)
        let amountLimitsMinimum = money(.depositAmountLimitsMinimum)
        let amountLimitsMaximum = money(.depositAmountLimitsMaximum)
        if let amountLimitsMinimum, let amountLimitsMaximum, amountLimitsMinimum > amountLimitsMaximum {
            fail(.depositAmountLimitsMinimum, "\(amountLimitsMinimum) is greater than deposit.amountLimits.maximum \(amountLimitsMaximum)")
        }
        let amountLimits: AmountRange? = (record[.depositAmountLimitsMinimum] == nil && record[.depositAmountLimitsMaximum] == nil)
            ? nil : AmountRange(minimum: amountLimitsMinimum, maximum: amountLimitsMaximum)

        var amounts: [Amount]?
        if let raw = record[.depositAmounts] {
            amounts = depositAmounts(raw, exponent: exponent, currency: code, issues: &issues)
            for (position, value) in (amounts ?? []).enumerated() {
                let label = "\(Field.depositAmounts.name)[\(position)]"
                if let depositLimits, !depositLimits.contains(value) {
                    issues.append(FieldIssue(field: label, message: "\(value) is outside depositLimits \(describe(depositLimits))"))
                }
                if let amountLimits, !amountLimits.contains(value) {
                    issues.append(FieldIssue(field: label, message: "\(value) is outside deposit.amountLimits \(describe(amountLimits))"))
                }
            }
        }

        var customAmount: CustomAmount?
        let customFields: [Field] = [.depositCustomAmountMinimum, .depositCustomAmountMaximum, .depositCustomAmountMultipleOf]
        let presentCustom = customFields.filter { record[$0] != nil }
        if !presentCustom.isEmpty {
            let parts = customFields.map { money($0, atLeastOneHundredth: true) }
            if presentCustom.count < 3 {
                for field in customFields where record[field] == nil {
                    fail(field, "is required when deposit.customAmount is given (minimum, maximum and multipleOf go together)")
                }
            } else if let minimum = parts[0], let maximum = parts[1], let multipleOf = parts[2] {
                let span = maximum.minorUnits - minimum.minorUnits
                if multipleOf.minorUnits > 0, span > 0, span % multipleOf.minorUnits == 0 {
                    customAmount = CustomAmount(minimum: minimum, maximum: maximum, multipleOf: multipleOf)
                    if let depositLimits, !depositLimits.contains(minimum) || !depositLimits.contains(maximum) {
                        fail(.depositCustomAmountMinimum, "custom amounts \(minimum)–\(maximum) are outside depositLimits \(describe(depositLimits))")
                    }
                } else {
                    fail(.depositCustomAmountMaximum, "\(maximum) must equal minimum \(minimum) + k × multipleOf \(multipleOf) for a whole k ≥ 1")
                }
            }
        }

        let depositRedirectUrl = url(record, .depositRedirectUrl, &issues)
        let depositNotificationUrl = url(record, .depositNotificationUrl, &issues)
        var expirationTime: String?
        if let raw = record[.depositExpirationTime] {
            if case let .text(text) = raw {
                if let problem = TextRules.dateTimeProblem(text) { fail(.depositExpirationTime, problem) } else { expirationTime = text }
            } else {
                fail(.depositExpirationTime, "must be a string")
            }
        }

        guard issues.isEmpty, let websiteId, let customerId, let currency else {
            return .rejected(line: record.line, issues: issues)
        }
        let cashier = CashierRequest(
            websiteId: websiteId, customerId: customerId, currency: currency,
            balance: balance, bonusBalance: bonusBalance, pendingPayoutTotal: pendingPayoutTotal,
            depositLimits: depositLimits, redirectUrl: redirectUrl, notificationUrl: notificationUrl)
        let deposit = DepositRequestSpec(
            strategyId: strategyId, amounts: amounts, customAmount: customAmount, amountLimits: amountLimits,
            redirectUrl: depositRedirectUrl, notificationUrl: depositNotificationUrl,
            expirationTime: expirationTime, customPropertySetId: customPropertySetId)
        return .valid(CashierRow(line: record.line, cashier: cashier, deposit: deposit))
    }

    // MARK: - Pieces

    private func describe(_ range: AmountRange) -> String {
        "\(range.minimum.map { "\($0)" } ?? "…")–\(range.maximum.map { "\($0)" } ?? "…")"
    }

    private func requiredText(_ record: RawRecord, _ field: Field, _ issues: inout [FieldIssue]) -> String? {
        guard let value = record[field] else {
            issues.append(FieldIssue(field: field.name, message: "is required"))
            return nil
        }
        return idText(value, field, &issues)
    }

    private func optionalId(_ record: RawRecord, _ field: Field, _ issues: inout [FieldIssue]) -> String? {
        record[field].flatMap { idText($0, field, &issues) }
    }

    private func idText(_ value: RawValue, _ field: Field, _ issues: inout [FieldIssue]) -> String? {
        guard case let .text(text) = value else {
            issues.append(FieldIssue(field: field.name, message: "must be a string"))
            return nil
        }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            issues.append(FieldIssue(field: field.name, message: "must not contain control characters"))
            return nil
        }
        if field != .currency, let problem = TextRules.idProblem(text) {
            issues.append(FieldIssue(field: field.name, message: problem))
            return nil
        }
        return text
    }

    private func url(_ record: RawRecord, _ field: Field, _ issues: inout [FieldIssue]) -> String? {
        guard let value = record[field] else { return nil }
        guard case let .text(text) = value else {
            issues.append(FieldIssue(field: field.name, message: "must be a string"))
            return nil
        }
        if let problem = TextRules.urlProblem(text) {
            issues.append(FieldIssue(field: field.name, message: problem))
            return nil
        }
        return text
    }

    private func amount(_ value: RawValue, field: String, exponent: Int, currency: String?,
                        atLeastOneHundredth: Bool, issues: inout [FieldIssue]) -> Amount? {
        guard let text = value.scalarText else {
            issues.append(FieldIssue(field: field, message: "must be a number or a decimal string"))
            return nil
        }
        switch Amount.parse(text[...], exponent: exponent) {
        case let .failure(error):
            issues.append(FieldIssue(field: field, message: "\(Printable.quoted(text)) \(error.message(currency: currency))"))
            return nil
        case let .success(amount):
            if amount.minorUnits < 0 {
                issues.append(FieldIssue(field: field, message: "\(Printable.text(text)) must be ≥ 0"))
                return nil
            }
            if atLeastOneHundredth, !amount.isAtLeastOneHundredth {
                issues.append(FieldIssue(field: field, message: "\(Printable.text(text)) must be at least 0.01"))
                return nil
            }
            return amount
        }
    }

    private func depositAmounts(_ raw: RawValue, exponent: Int, currency: String?, issues: inout [FieldIssue]) -> [Amount]? {
        let items: [RawValue]
        switch raw {
        case let .text(text):
            // CSV: amounts separated by ';'.
            items = text.split(separator: ";", omittingEmptySubsequences: false).map { .text(String($0)) }
        case .number:
            items = [raw]
        case let .list(values):
            items = values
        case .unexpected:
            issues.append(FieldIssue(field: Field.depositAmounts.name, message: "must be a list of amounts"))
            return nil
        }
        var result: [Amount] = []
        var ok = true
        for (position, item) in items.enumerated() {
            if let value = amount(item, field: "\(Field.depositAmounts.name)[\(position)]", exponent: exponent,
                                  currency: currency, atLeastOneHundredth: true, issues: &issues) {
                result.append(value)
            } else {
                ok = false
            }
        }
        return ok ? result : nil
    }
}
