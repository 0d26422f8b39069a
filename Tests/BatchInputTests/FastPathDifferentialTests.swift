import Testing
@testable import BatchInput
@testable import CashierModel

/// The byte-level path (`BatchScan.scanRejections`, `RowValidator.quickCheck`,
/// `JSONFlatScanner`) must agree with the String path (`BatchScan.scan`,
/// `RowValidator.validate`, `JSONParser` + `flatten`) on every row.
@Suite struct FastPathDifferentialTests {
    struct Outcome: Equatable {
        var rejections: [String]
        var rowsRead: Int
        var valid: Int
        var rejected: Int
        var validTotals: CurrencyTotals
        var fileTotals: CurrencyTotals
        var control: ControlCheck?
    }

    func both(_ path: String) throws -> (slow: Outcome, fast: Outcome) {
        var slowLines: [String] = []
        let slow = try BatchScan.scan(path: path) { _, verdict in
            if case let .rejected(line, issues) = verdict {
                for issue in issues { slowLines.append("\(line): \(issue.field): \(issue.message)") }
            }
        }
        var fastLines: [String] = []
        let fast = try BatchScan.scanRejections(path: path) { line, issues in
            for issue in issues { fastLines.append("\(line): \(issue.field): \(issue.message)") }
        }
        func outcome(_ s: BatchSummary, _ lines: [String]) -> Outcome {
            Outcome(rejections: lines, rowsRead: s.rowsRead, valid: s.valid, rejected: s.rejected,
                    validTotals: s.validTotals, fileTotals: s.fileTotals, control: s.control)
        }
        return (outcome(slow, slowLines), outcome(fast, fastLines))
    }

    /// quickCheck only ever says "valid" for rows `validate` accepts, with the same figures.
    func checkQuickImpliesValid(_ path: String) throws -> (quick: Int, total: Int) {
        var quick = 0, total = 0
        try BatchReader(path: path).forEachByteRecord { record in
            total += 1
            let verdict = RowValidator().validate(record.rawRecord())
            guard let q = RowValidator().quickCheck(record) else { return }
            quick += 1
            guard case let .valid(row) = verdict else {
                Issue.record("\(path):\(record.line): quickCheck accepted a row validate rejects: \(verdict)")
                return
            }
            #expect(q.currencySlot == row.cashier.currency.slot)
            #expect(q.balance == row.cashier.balance?.minorUnits ?? 0)
            #expect(q.bonusBalance == row.cashier.bonusBalance?.minorUnits ?? 0)
            #expect(q.pendingPayoutTotal == row.cashier.pendingPayoutTotal?.minorUnits ?? 0)
        }
        return (quick, total)
    }

    @Test func sampleDataAgrees() throws {
        for name in ["customers.csv", "customers.jsonl.gz", "customers-with-control.csv", "bad-rows.csv"] {
            let path = repoRoot.appendingPathComponent("SampleData/\(name)").path
            let (slow, fast) = try both(path)
            #expect(slow == fast, "\(name)")
            let (quick, total) = try checkQuickImpliesValid(path)
            #expect(total > 10)
            if name != "bad-rows.csv" { #expect(quick == total, "\(name): every valid sample row takes the fast path") }
        }
    }

    // MARK: - Generated rows with random bad cells

    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let badValues: [Field: [String]] = [
        .websiteId: ["", String(repeating: "w", count: 51), "web\u{7}", "wéb_1", "web 1"],
        .customerId: ["", String(repeating: "c", count: 50), String(repeating: "c", count: 51), "cus_\u{1}", "kunde_ä"],
        .currency: ["usd", "XYZ", "US", "USDT", "XAU", "HRK", "", " USD", "JPY", "BHD", "CLF"],
        .balance: ["10.001", "1e3", "1,000.00", "-0.01", "abc", ".5", "5.", "+5", " 7.25 ", "10.500", "0", "1000000000000000", "\t3"],
        .bonusBalance: ["0.5", "", "1.2.3", "NaN", "99999999999999999999999"],
        .pendingPayoutTotal: ["-0", "0.00", "12.345"],
        .depositLimitsMinimum: ["0.00", "0.01", "500", "0.009", "1"],
        .depositLimitsMaximum: ["100", "0", "5000", "x"],
        .redirectUrl: ["/relative", "ftp://x.example/", "https://exa mple.com", "https://x.example/a b", "https://x.example/{name}",
                       "https://x.example/%zz", "https:///p", "https://x.example:99999999/", "http://[::1]:80/", "http://[::1]x/",
                       "HTTPS://X.EXAMPLE/", "https://ü@x.example/", "https://x.example/é", "https://x.example/?a={id}&b={result}"],
        .notificationUrl: ["https://x.example/n?tx={id}", "mailto:a@b", "https://[::1/"],
        .depositStrategyId: [String(repeating: "s", count: 51), "dep\u{7F}", "dep_1"],
        .depositAmounts: ["0.00;10", "10;;20", "20;7500", "150", "", ";", "10;20;30", "1e3;5"],
        .depositCustomAmountMinimum: ["10", "0", "5.30", "x"],
        .depositCustomAmountMaximum: ["1000", "995", "10", "6.80"],
        .depositCustomAmountMultipleOf: ["10", "0.50", "0", "7"],
        .depositAmountLimitsMinimum: ["200", "10", "-1"],
        .depositAmountLimitsMaximum: ["100", "2000"],
        .depositRedirectUrl: ["https://x.example/d", "nope"],
        .depositNotificationUrl: ["https://x.example/dn", "https://x.example/\u{1}"],
        .depositExpirationTime: ["2026-11-22T06:00:00Z", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2024-02-29T23:59:60+05:30",
                                 "2026-11-22 06:00:00Z", "2026-11-22T24:00:00Z", "2026-01-01T00:00:00.123-08:00", "x"],
        .depositCustomPropertySetId: ["cps_1", String(repeating: "p", count: 51)],
    ]

    static let good: [Field: String] = [
        .websiteId: "web_1", .customerId: "cus_1", .currency: "USD", .balance: "1500.25", .bonusBalance: "0",
        .pendingPayoutTotal: "80.00", .depositLimitsMinimum: "10", .depositLimitsMaximum: "5000",
        .redirectUrl: "https://casino.example/return", .notificationUrl: "https://casino.example/n?tx={id}&r={result}",
        .depositStrategyId: "dep_str_1", .depositAmounts: "20;50;100", .depositCustomAmountMinimum: "10",
        .depositCustomAmountMaximum: "1000", .depositCustomAmountMultipleOf: "10", .depositAmountLimitsMinimum: "10",
        .depositAmountLimitsMaximum: "2000", .depositRedirectUrl: "https://casino.example/d",
        .depositNotificationUrl: "https://casino.example/dn", .depositExpirationTime: "2026-11-22T06:00:00Z",
        .depositCustomPropertySetId: "cps_1",
    ]

    /// Rows as field → text (nil = absent): mostly valid, some with one to three bad cells, some duplicates.
    func generateRows(count: Int, seed: UInt64) -> [[Field: String]] {
        var rng = Rng(state: seed)
        var rows: [[Field: String]] = []
        for i in 0..<count {
            var row: [Field: String] = [:]
            for field in Field.allCases where field.rawValue < 3 || rng.below(3) != 0 { row[field] = Self.good[field] }
            row[.customerId] = "cus_\(i % 900)"  // some keys repeat: duplicates
            row[.currency] = rng.pick(["USD", "EUR", "JPY", "BHD", "GBP"])
            if row[.currency] == "JPY" || row[.currency] == "BHD" {
                for field in [Field.balance, .pendingPayoutTotal] where row[field] != nil { row[field] = "15000" }
            }
            let bad = rng.below(4)
            for _ in 0..<bad {
                let field = rng.pick(Array(Self.badValues.keys).sorted { $0.rawValue < $1.rawValue })
                let value = rng.pick(Self.badValues[field]!)
                row[field] = value.isEmpty && rng.below(2) == 0 ? nil : value
            }
            rows.append(row)
        }
        return rows
    }

    func csv(_ rows: [[Field: String]], rng: inout Rng) -> [UInt8] {
        var out = Array(Field.allCases.map(\.name).joined(separator: ",").utf8) + [0x0A]
        for (index, row) in rows.enumerated() {
            var cells: [[UInt8]] = []
            for field in Field.allCases {
                let text = row[field] ?? ""
                let needsQuotes = text.contains(",") || text.contains("\"") || text.contains("\n") || rng.below(10) == 0
                var bytes = Array(text.utf8)
                if index % 97 == 13 && field == .customerId { bytes += [0xC3, 0x28] }  // invalid UTF-8
                if needsQuotes {
                    var quoted: [UInt8] = [0x22]
                    for b in bytes { quoted.append(b); if b == 0x22 { quoted.append(0x22) } }
                    cells.append(quoted + [0x22])
                } else {
                    cells.append(bytes)
                }
            }
            if index % 211 == 7 { cells.removeLast() }  // wrong cell count
            if index % 89 == 5 { out += Array("web_1,\"cus_x\"y,USD".utf8) + [0x0A]; continue }  // text after a closing quote
            if index % 53 == 3 { out += [0x0A] }  // blank line
            out += Array(cells.joined(separator: [0x2C])) + (index % 3 == 0 ? [0x0D, 0x0A] : [0x0A])
        }
        return out
    }

    func jsonString(_ text: String, rng: inout Rng) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/" where rng.below(100) == 0: out += "\\/"
            default:
                if scalar.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16) }
                else if scalar.value > 0x7F && rng.below(2) == 0 { out += "\\u" + String(scalar.value, radix: 16).leftPadded(4) }
                else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    func jsonl(_ rows: [[Field: String]], rng: inout Rng) -> [UInt8] {
        var out: [UInt8] = []
        for (index, row) in rows.enumerated() {
            func value(_ field: Field) -> String? {
                guard let text = row[field] else { return rng.below(20) == 0 ? "null" : nil }
                if field.isMoney, !text.isEmpty, rng.below(2) == 0, text.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }),
                   !text.hasPrefix("."), !text.hasSuffix("."), !text.hasPrefix("0") || text == "0" || text.hasPrefix("0.") {
                    return text  // a JSON number (when it is one)
                }
                if field == .depositAmounts, rng.below(2) == 0 {
                    return "[" + text.split(separator: ";", omittingEmptySubsequences: false).map { jsonString(String($0), rng: &rng) }.joined(separator: ",") + "]"
                }
                return jsonString(text, rng: &rng)
            }
            var top: [String] = []
            var limits: [String] = [], deposit: [String] = [], custom: [String] = [], amountLimits: [String] = []
            for field in Field.allCases {
                guard let v = value(field) else { continue }
                let parts = field.name.split(separator: ".").map(String.init)
                let member = "\"\(parts.last!)\":\(v)"
                switch parts.count {
                case 1: top.append(member)
                case 2 where parts[0] == "depositLimits": limits.append(member)
                case 2: deposit.append(member)
                default: if parts[1] == "customAmount" { custom.append(member) } else { amountLimits.append(member) }
                }
            }
            if !custom.isEmpty { deposit.append("\"customAmount\":{\(custom.joined(separator: ","))}") }
            if !amountLimits.isEmpty { deposit.append("\"amountLimits\":{\(amountLimits.joined(separator: ", "))}") }
            if !limits.isEmpty { top.append("\"depositLimits\":{\(limits.joined(separator: ","))}") }
            if !deposit.isEmpty { top.append("\"deposit\": {\(deposit.joined(separator: ","))}") }
            switch index % 41 {
            case 1: top.append("\"balanse\":1")
            case 2: top.append("\"websiteId\":\"dup\"")
            case 3: top.append("\"bonusBalance\":true")
            case 4: top.append("\"depositLimits\":7")
            case 5: top.append("\"deposit\":null")
            default: break
            }
            var line = "{" + top.joined(separator: index % 2 == 0 ? "," : " , ") + "}"
            switch index % 37 {
            case 1: line = String(line.dropLast())  // malformed
            case 2: line = "[1,2]"
            case 3: line += " x"
            case 4: line = "  " + line + "\r"
            case 5: line = ""
            default: break
            }
            out += Array(line.utf8)
            if index % 59 == 9 { out += [0xFF] }
            out.append(0x0A)
        }
        return out
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func generatedBatchesAgree(seed: UInt64) throws {
        let dir = try TempDir()
        let rows = generateRows(count: 3000, seed: seed)
        var rng = Rng(state: seed &* 7)
        let csvPath = try dir.write("g.csv", csv(rows, rng: &rng))
        let jsonlPath = try dir.write("g.jsonl", jsonl(rows, rng: &rng))
        let gzPath = try dir.write("g.jsonl.gz", try gzip(jsonl(rows, rng: &rng)))
        for path in [csvPath, jsonlPath, gzPath] {
            let (slow, fast) = try both(path)
            #expect(slow.rejections == fast.rejections, "\(path)")
            #expect(slow == fast, "\(path)")
            #expect(slow.rejected > 100 && slow.valid > 100, "\(path): \(slow.valid) valid, \(slow.rejected) rejected")
            let (quick, total) = try checkQuickImpliesValid(path)
            #expect(quick > total / 40, "\(path): the fast path is taken (\(quick) of \(total))")
        }
    }

    /// The flat JSON scanner reads a line exactly as the general parser does (or declines).
    @Test func flatScannerAgreesWithTheGeneralParser() throws {
        var rng = Rng(state: 42)
        let rows = generateRows(count: 2000, seed: 9)
        let text = jsonl(rows, rng: &rng)
        var declined = 0, scanned = 0
        for line in text.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let bytes = Array(line)
            bytes.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                var record = ByteRecord()
                record.reset(line: 1, base: base)
                var general = RawRecord(line: 1)
                JSONLinesBatchReader.fill(&general, from: buffer)
                if JSONFlatScanner.scan(base, buffer.count, into: &record) {
                    scanned += 1
                    let fast = record.rawRecord()
                    #expect(fast.values == general.values, "\(String(decoding: bytes, as: UTF8.self))")
                    #expect(general.readIssues.isEmpty && !general.unreadable)
                } else {
                    declined += 1
                }
            }
        }
        #expect(scanned > 400)
        #expect(declined > 50)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
