import Testing
@testable import BatchInput
@testable import CashierModel

@Suite struct ControlManifestTests {
    let batch = """
        websiteId,customerId,currency,balance,bonusBalance,pendingPayoutTotal
        web_1,cus_1,USD,1000.50,0,40.00
        web_1,cus_2,USD,234.00,,40.00
        web_1,cus_3,JPY,15000,500,0
        web_1,cus_4,BHD,1.005,,

        """

    @Test func aMatchingManifestPasses() throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", batch)
        _ = try dir.write("b.csv.control.json", #"{"rows": 4, "totals": {"USD": {"balance": "1234.50", "bonusBalance": "0", "pendingPayoutTotal": "80.00"}, "JPY": {"balance": "15000", "bonusBalance": "500", "pendingPayoutTotal": "0"}, "BHD": {"balance": "1.005"}}}"#)
        let summary = try BatchScan.scan(path: path) { _, _ in }
        #expect(summary.control == ControlCheck(manifestPath: path + ".control.json", differences: []))
        #expect(summary.validTotals.byCurrency["USD"]?.text(.balance) == "1234.50")
        #expect(summary.validTotals.byCurrency["BHD"]?.text(.balance) == "1.005")
    }

    @Test func aMismatchListsExpectedAgainstFoundPerCurrency() throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", batch)
        _ = try dir.write("b.csv.control.json", #"{"rows": 5, "totals": {"USD": {"balance": "1234.51", "bonusBalance": "0", "pendingPayoutTotal": "80.00"}, "EUR": {"balance": "1"}}}"#)
        let summary = try BatchScan.scan(path: path) { _, _ in }
        #expect(summary.control?.matched == false)
        #expect(summary.control?.differences == [
            "rows: expected 5, found 4",
            "BHD balance: expected nothing (currency absent from the manifest), found 1.005",
            "BHD bonusBalance: expected nothing (currency absent from the manifest), found 0.000",
            "BHD pendingPayoutTotal: expected nothing (currency absent from the manifest), found 0.000",
            "EUR balance: expected 1.00, found 0.00",
            "JPY balance: expected nothing (currency absent from the manifest), found 15000",
            "JPY bonusBalance: expected nothing (currency absent from the manifest), found 500",
            "JPY pendingPayoutTotal: expected nothing (currency absent from the manifest), found 0",
            "USD balance: expected 1234.51, found 1234.50",
        ])
    }

    @Test func aMalformedManifestIsABatchError() throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", batch)
        _ = try dir.write("b.csv.control.json", #"{"rows": "four"}"#)
        do {
            _ = try BatchScan.scan(path: path) { _, _ in }
            Issue.record("accepted")
        } catch let error as BatchError {
            #expect(error.kind == .controlManifest)
            #expect(error.detail == "control manifest: \"rows\" must be a whole number ≥ 0")
        }
    }

    /// `"USD": {}` would switch the check off for USD, and a key given twice would let the last
    /// value hide the first: both are refused, saying why.
    @Test(arguments: [
        (#"{"rows": 4, "totals": {"USD": {}}}"#,
         "control manifest: totals.USD states no figure: give balance, bonusBalance or pendingPayoutTotal, or leave the currency out"),
        (#"{"rows": 999, "rows": 4}"#, "control manifest: \"rows\" is given twice"),
        (#"{"rows": 4, "totals": {"USD": {"balance": "1"}, "USD": {"balance": "2"}}}"#, "control manifest: totals.\"USD\" is given twice"),
        (#"{"rows": 4, "totals": {"USD": {"balance": "1", "balance": "1234.50"}}}"#, "control manifest: totals.USD.\"balance\" is given twice"),
    ])
    func anEmptyCurrencyOrADuplicateKeyIsRefused(_ manifest: String, _ detail: String) throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", batch)
        _ = try dir.write("b.csv.control.json", manifest)
        do {
            _ = try BatchScan.scan(path: path) { _, _ in }
            Issue.record("accepted \(manifest)")
        } catch let error as BatchError {
            #expect(error.kind == .controlManifest && error.path == path + ".control.json")
            #expect(error.detail == detail)
        }
    }
}

@Suite struct SampleDataTests {
    func scan(_ name: String) throws -> (BatchSummary, [Int: [FieldIssue]]) {
        var rejected: [Int: [FieldIssue]] = [:]
        let summary = try BatchScan.scan(path: repoRoot.appendingPathComponent("SampleData/\(name)").path) { _, verdict in
            if case let .rejected(line, issues) = verdict { rejected[line] = issues }
        }
        return (summary, rejected)
    }

    @Test func sampleBatchesAreValid() throws {
        for name in ["customers.csv", "customers.jsonl.gz", "customers-with-control.csv"] {
            let (summary, rejected) = try scan(name)
            #expect(rejected.isEmpty, "\(name): \(rejected)")
            #expect(summary.rowsRead > 10)
            #expect(summary.valid == summary.rowsRead)
        }
        let (control, _) = try scan("customers-with-control.csv")
        #expect(control.control?.matched == true)
        let (jsonl, _) = try scan("customers.jsonl.gz")
        #expect(jsonl.format == BatchFormat(syntax: .jsonLines, gzip: true))
    }

    /// Every valid sample row reads back from its request as the same typed row, and its request
    /// written back as cells validates to that row again (what `rejects.csv` gives a failed row).
    @Test func everySampleRowRoundTripsThroughItsRequest() throws {
        var checked = 0
        for name in ["customers.csv", "customers.jsonl.gz", "customers-with-control.csv", "bad-rows.csv"] {
            _ = try BatchScan.scan(path: repoRoot.appendingPathComponent("SampleData/\(name)").path) { _, verdict in
                guard case let .valid(row) = verdict else { return }
                let request = RowRequest.encode(row)
                #expect(!request.contains("websiteId") && !request.contains("customerId"), "\(name):\(row.line): \(request)")
                #expect(RowRequest.decode(request, line: row.line, key: row.key) == row, "\(name):\(row.line): \(request)")
                guard case let .valid(again) = RowValidator().validate(RawRecord(row: row)) else {
                    Issue.record("\(name):\(row.line): written back, no longer valid")
                    return
                }
                #expect(again == row, "\(name):\(row.line)")
                checked += 1
            }
        }
        #expect(checked > 40)
    }

    @Test func aRequestThatIsNotOneIsRefused() {
        let key = RowKey(websiteId: "web_1", customerId: "cus_1", currency: "USD")
        let good = #"["10.50",null,null,null,null,"https://x.example/r",null,null,["5.00","10.00"]]"#
        let row = RowRequest.decode(good, line: 4, key: key)
        #expect(row?.line == 4 && row?.cashier.balance == Amount(minorUnits: 1050, exponent: 2))
        #expect(row?.deposit.amounts == [Amount(minorUnits: 500, exponent: 2), Amount(minorUnits: 1000, exponent: 2)])
        #expect(row?.cashier.redirectUrl == "https://x.example/r" && row?.cashier.bonusBalance == nil)
        for bad in [
            "", "{}", "not json",
            #"{"balance":"10.50"}"#,                // keyed by column name: the ledger's v10 form
            #"[10.50]"#,                            // money is text
            #"["10.505"]"#,                         // more decimals than USD has
            "[" + Array(repeating: "null", count: RowRequest.fields.count + 1).joined(separator: ",") + "]",  // one element too many
            #"[null,null,null,null,null,null,null,null,"5.00"]"#,        // deposit.amounts is a list
            #"[null,null,null,null,null,null,null,null,null,"1.00"]"#,   // a custom amount is whole or absent
            #"[null,null,null,null,null,7]"#,       // redirectUrl is text
        ] {
            #expect(RowRequest.decode(bad, line: 4, key: key) == nil, "\(bad)")
        }
        #expect(RowRequest.decode(good, line: 4, key: RowKey(websiteId: "web_1", customerId: "cus_1", currency: "XXX")) == nil)
    }

    @Test func badRowsAreRejectedEachForItsRule() throws {
        let (summary, rejected) = try scan("bad-rows.csv")
        #expect(summary.rowsRead == 29)
        #expect(summary.valid == 5)
        #expect(summary.rejected == 24)
        let expectedField: [Int: String] = [
            3: "websiteId", 4: "customerId", 5: "currency", 6: "customerId", 7: "currency", 8: "currency", 9: "currency",
            11: "balance", 12: "balance", 13: "balance", 14: "balance", 15: "balance", 16: "balance",
            18: "depositLimits.minimum", 19: "depositLimits.minimum", 20: "deposit.amounts[0]", 21: "deposit.amounts[2]",
            22: "deposit.customAmount.multipleOf", 23: "deposit.customAmount.maximum",
            25: "redirectUrl", 26: "notificationUrl", 27: "redirectUrl", 28: "deposit.expirationTime", 30: "row",
        ]
        #expect(Set(rejected.keys) == Set(expectedField.keys))
        for (line, field) in expectedField {
            #expect(rejected[line]?.map(\.field) == [field], "line \(line): \(rejected[line] ?? [])")
        }
    }
}
