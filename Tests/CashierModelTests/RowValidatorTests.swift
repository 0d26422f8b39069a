import Testing
@testable import CashierModel

/// Builds a record from column → text, as the CSV reader would.
func record(_ cells: [String: String], line: Int = 2) -> RawRecord {
    var r = RawRecord(line: line)
    for (name, text) in cells {
        guard let field = Field(name: name) else { fatalError("unknown field \(name) in test") }
        r[field] = .text(text)
    }
    return r
}

func issues(_ cells: [String: String]) -> [FieldIssue] {
    if case let .rejected(_, issues) = RowValidator().validate(record(cells)) { return issues }
    return []
}

let base = ["websiteId": "web_1", "customerId": "cus_1", "currency": "USD"]
func with(_ extra: [String: String]) -> [String: String] { base.merging(extra) { $1 } }

@Suite struct RowValidatorTests {
    @Test func aFullValidRowBecomesTypedRequests() throws {
        let verdict = RowValidator().validate(record(with([
            "balance": "1500.25", "bonusBalance": "0", "pendingPayoutTotal": "80.00",
            "depositLimits.minimum": "10", "depositLimits.maximum": "5000",
            "redirectUrl": "https://casino.example/return", "notificationUrl": "https://casino.example/n?tx={id}&r={result}",
            "deposit.strategyId": "dep_str_1", "deposit.amounts": "20;50;100",
            "deposit.customAmount.minimum": "10", "deposit.customAmount.maximum": "1000", "deposit.customAmount.multipleOf": "10",
            "deposit.amountLimits.minimum": "10", "deposit.amountLimits.maximum": "2000",
            "deposit.expirationTime": "2026-11-22T06:00:00Z", "deposit.customPropertySetId": "cps_1",
        ])))
        guard case let .valid(row) = verdict else { Issue.record("rejected: \(verdict)"); return }
        #expect(row.cashier.balance == Amount(minorUnits: 150025, exponent: 2))
        #expect(row.deposit.amounts?.map(\.minorUnits) == [2000, 5000, 10000])
        #expect(row.cashierBody == #"{"websiteId":"web_1","customerId":"cus_1","currency":"USD","depositLimits":{"minimum":10.00,"maximum":5000.00},"redirectUrl":"https://casino.example/return","notificationUrl":"https://casino.example/n?tx={id}&r={result}"}"#)
        #expect(row.depositRequestBody() == #"{"websiteId":"web_1","customerId":"cus_1","currency":"USD","strategyId":"dep_str_1","amounts":[20.00,50.00,100.00],"amountLimits":{"minimum":10.00,"maximum":2000.00},"customAmount":{"minimum":10.00,"maximum":1000.00,"multipleOf":10.00},"expirationTime":"2026-11-22T06:00:00Z","customPropertySetId":"cps_1"}"#)
        #expect(row.key == RowKey(websiteId: "web_1", customerId: "cus_1", currency: "USD"))
    }

    @Test func onlyTheThreeIdentityFieldsAreRequired() {
        #expect(issues(base).isEmpty)
        #expect(issues([:]) == [
            FieldIssue(field: "websiteId", message: "is required"),
            FieldIssue(field: "customerId", message: "is required"),
            FieldIssue(field: "currency", message: "is required"),
        ])
    }

    @Test func idsAreAtMostFiftyCharacters() {
        #expect(issues(with(["customerId": String(repeating: "c", count: 50)])).isEmpty)
        #expect(issues(with(["customerId": String(repeating: "c", count: 51)])) == [FieldIssue(field: "customerId", message: "must be at most 50 characters (got 51)")])
        #expect(issues(with(["deposit.strategyId": String(repeating: "s", count: 51)])) == [FieldIssue(field: "deposit.strategyId", message: "must be at most 50 characters (got 51)")])
        #expect(issues(with(["websiteId": "web\u{7}"])) == [FieldIssue(field: "websiteId", message: "must not contain control characters")])
    }

    @Test func currencyFailsClosed() {
        #expect(issues(with(["currency": "XYZ"])) == [FieldIssue(field: "currency", message: "unknown currency code XYZ (not an active ISO 4217 code with a minor unit)")])
        #expect(issues(with(["currency": "usd"])) == [FieldIssue(field: "currency", message: "must be upper-case: USD, not usd")])
        #expect(issues(with(["currency": "US"])) == [FieldIssue(field: "currency", message: "must be a 3-letter ISO 4217 code (got \"US\")")])
    }

    @Test func moneyFollowsTheCurrencyExponent() {
        #expect(issues(with(["balance": "10.001"])) == [FieldIssue(field: "balance", message: "\"10.001\" has 3 decimals but USD allows 2 (amounts are never rounded)")])
        #expect(issues(with(["currency": "JPY", "balance": "0.5"])) == [FieldIssue(field: "balance", message: "\"0.5\" has 1 decimal but JPY allows 0 (amounts are never rounded)")])
        #expect(issues(with(["currency": "BHD", "balance": "12.345"])).isEmpty)
        #expect(issues(with(["balance": "1e3"])) == [FieldIssue(field: "balance", message: "\"1e3\" exponent notation is not allowed (write 1000, not 1e3)")])
        #expect(issues(with(["balance": "1,000.00"])) == [FieldIssue(field: "balance", message: "\"1,000.00\" thousands separators and decimal commas are not allowed (write 1000.00, not 1,000.00)")])
        #expect(issues(with(["pendingPayoutTotal": "-0.01"])) == [FieldIssue(field: "pendingPayoutTotal", message: "-0.01 must be ≥ 0")])
        #expect(issues(with(["bonusBalance": "abc"])) == [FieldIssue(field: "bonusBalance", message: "\"abc\" is not a decimal number")])
    }

    @Test func everyProblemOfARowIsListed() {
        let found = issues(["customerId": String(repeating: "x", count: 51), "currency": "XYZ", "balance": "1e3",
                            "redirectUrl": "/relative", "deposit.expirationTime": "2026-13-01T00:00:00Z"])
        #expect(found.map(\.field) == ["websiteId", "customerId", "currency", "balance", "redirectUrl", "deposit.expirationTime"])
    }

    @Test func depositLimitsAreConsistent() {
        #expect(issues(with(["depositLimits.minimum": "0.00"])) == [FieldIssue(field: "depositLimits.minimum", message: "0.00 must be at least 0.01")])
        #expect(issues(with(["depositLimits.minimum": "0.01"])).isEmpty)
        #expect(issues(with(["depositLimits.minimum": "500", "depositLimits.maximum": "100"])) == [FieldIssue(field: "depositLimits.minimum", message: "500.00 is greater than depositLimits.maximum 100.00")])
        #expect(issues(with(["currency": "JPY", "depositLimits.minimum": "1"])).isEmpty)
        #expect(issues(with(["currency": "BHD", "depositLimits.minimum": "0.009"])) == [FieldIssue(field: "depositLimits.minimum", message: "0.009 must be at least 0.01")])
    }

    @Test func depositAmountsAreAtLeastOneHundredthAndWithinLimits() {
        #expect(issues(with(["deposit.amounts": "0.00;10"])) == [FieldIssue(field: "deposit.amounts[0]", message: "0.00 must be at least 0.01")])
        #expect(issues(with(["deposit.amounts": "10;;20"])) == [FieldIssue(field: "deposit.amounts[1]", message: "\"\" is empty")])
        #expect(issues(with(["depositLimits.minimum": "10", "depositLimits.maximum": "5000", "deposit.amounts": "20;7500"]))
                == [FieldIssue(field: "deposit.amounts[1]", message: "7500.00 is outside depositLimits 10.00–5000.00")])
        #expect(issues(with(["deposit.amountLimits.maximum": "100", "deposit.amounts": "150"]))
                == [FieldIssue(field: "deposit.amounts[0]", message: "150.00 is outside deposit.amountLimits …–100.00")])
        #expect(issues(with(["deposit.amountLimits.minimum": "200", "deposit.amountLimits.maximum": "100"]))
                == [FieldIssue(field: "deposit.amountLimits.minimum", message: "200.00 is greater than deposit.amountLimits.maximum 100.00")])
    }

    @Test func customAmountNeedsAllPartsAndAWholeStep() {
        #expect(issues(with(["deposit.customAmount.minimum": "10", "deposit.customAmount.maximum": "1000"]))
                == [FieldIssue(field: "deposit.customAmount.multipleOf", message: "is required when deposit.customAmount is given (minimum, maximum and multipleOf go together)")])
        #expect(issues(with(["deposit.customAmount.minimum": "10", "deposit.customAmount.maximum": "995", "deposit.customAmount.multipleOf": "10"]))
                == [FieldIssue(field: "deposit.customAmount.maximum", message: "995.00 must equal minimum 10.00 + k × multipleOf 10.00 for a whole k ≥ 1")])
        #expect(issues(with(["deposit.customAmount.minimum": "10", "deposit.customAmount.maximum": "10", "deposit.customAmount.multipleOf": "5"]))
                == [FieldIssue(field: "deposit.customAmount.maximum", message: "10.00 must equal minimum 10.00 + k × multipleOf 5.00 for a whole k ≥ 1")])
        #expect(issues(with(["deposit.customAmount.minimum": "5.30", "deposit.customAmount.maximum": "6.80", "deposit.customAmount.multipleOf": "0.50"])).isEmpty)
        #expect(issues(with(["deposit.customAmount.minimum": "0", "deposit.customAmount.maximum": "10", "deposit.customAmount.multipleOf": "1"]))
                == [FieldIssue(field: "deposit.customAmount.minimum", message: "0 must be at least 0.01")])
        #expect(issues(with(["depositLimits.maximum": "500", "deposit.customAmount.minimum": "10", "deposit.customAmount.maximum": "1000", "deposit.customAmount.multipleOf": "10"]))
                == [FieldIssue(field: "deposit.customAmount.minimum", message: "custom amounts 10.00–1000.00 are outside depositLimits …–500.00")])
    }

    @Test func urlsAndTimes() {
        #expect(issues(with(["redirectUrl": "/relative"])) == [FieldIssue(field: "redirectUrl", message: "must be an absolute URL starting with https:// or http://")])
        #expect(issues(with(["deposit.notificationUrl": "ftp://x.example/n"])) == [FieldIssue(field: "deposit.notificationUrl", message: "scheme ftp: is not allowed (only http and https)")])
        #expect(issues(with(["deposit.expirationTime": "2026-13-01"])) == [FieldIssue(field: "deposit.expirationTime", message: "must be an RFC 3339 date-time such as 2026-11-22T06:00:00Z")])
    }

    @Test func jsonTypesAreChecked() {
        var r = record(base)
        r[.customerId] = .number("42")
        r[.balance] = .number("10.5")
        r[.depositAmounts] = .list([.number("10"), .text("20.50"), .unexpected(kind: "a boolean")])
        r[.bonusBalance] = .unexpected(kind: "an object")
        guard case let .rejected(_, found) = RowValidator().validate(r) else { Issue.record("accepted"); return }
        #expect(found == [
            FieldIssue(field: "customerId", message: "must be a string"),
            FieldIssue(field: "bonusBalance", message: "must be a number or a decimal string"),
            FieldIssue(field: "deposit.amounts[2]", message: "must be a number or a decimal string"),
        ])
    }

    @Test func duplicatesAreRejectedAfterTheFirst() {
        var batch = BatchValidator()
        let first = batch.judge(record(base, line: 2))
        let other = batch.judge(record(with(["currency": "EUR"]), line: 3))
        let again = batch.judge(record(base, line: 7))
        guard case .valid = first, case .valid = other else { Issue.record("first rows must pass"); return }
        guard case let .rejected(line, found) = again else { Issue.record("duplicate accepted"); return }
        #expect(line == 7)
        #expect(found == [FieldIssue(field: "row", message: "duplicate of line 2: websiteId/customerId/currency web_1/cus_1/USD appears twice in this batch")])
    }

    @Test func fingerprintTableGrowsWithoutLosingEntries() {
        var table = FingerprintTable()
        for i in 0..<20_000 { #expect(table.insert(UInt64(i) &* 0x9E37_79B9_7F4A_7C15, line: i + 2) == nil) }
        for i in stride(from: 0, to: 20_000, by: 997) { #expect(table.insert(UInt64(i) &* 0x9E37_79B9_7F4A_7C15, line: 0) == i + 2) }
    }

    @Test func sourceJSONRoundTrips() throws {
        var r = record(with(["balance": "10.50", "deposit.amounts": "1;2"]), line: 9)
        r[.bonusBalance] = .number("0.10")
        r[.depositAmounts] = .list([.number("5"), .text("6.00")])
        let back = try RawRecord(line: 9, sourceJSON: r.sourceJSON)
        #expect(back.values == r.values)
    }
}
