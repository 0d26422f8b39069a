import BuildInfo
import BatchInput
import CashierModel
import Foundation
import Ledger
import Testing
@testable import Reports

// Every test stages a real SQLite ledger through the Ledger API in its own temporary directory.

final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("reports-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

func sha(_ seed: String) -> String {
    let hex = seed.utf8.map { String(format: "%02x", $0) }.joined()
    return String((hex + String(repeating: "0", count: 64)).prefix(64))
}

/// A record as the CSV reader would see it, staged with its verdict as the stager stages it.
func staged(_ line: Int, _ cells: [Field: String]) -> StagedRow {
    var record = RawRecord(line: line)
    for (field, text) in cells { record[field] = .text(text) }
    var validator = BatchValidator()
    return StagedRow(record, validator.judge(record))
}

let hostile = "<script>alert(1)</script>"

/// One run over one batch: 3 valid USD rows (2 done, 1 failed after a 429, a 500 and a
/// timeout), 1 valid JPY row done, 4 rejected rows with hostile and formula-looking cells.
struct Fixture {
    let dir: TempDir
    let ledger: Ledger
    let runID: Int64
    let batch: BatchRecord

    init(exitCode: Int32 = 3, status: RunStatus = .finished) async throws {
        dir = try TempDir()
        ledger = try Ledger(path: dir.path("ledger.sqlite"))
        runID = try ledger.beginRun(command: "run")
        let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: sha("night-1"), path: "/in/night<1>.csv", format: .csv), runID: runID)
        self.batch = batch
        let rows = [
            staged(2, [.websiteId: "web_1", .customerId: "cus_a", .currency: "USD", .balance: "10.05", .bonusBalance: "1.00", .pendingPayoutTotal: "0.10"]),
            staged(3, [.websiteId: "web_1", .customerId: "cus_b", .currency: "USD", .balance: "20.00", .pendingPayoutTotal: "5"]),
            staged(4, [.websiteId: "web_1", .customerId: "cus_c", .currency: "USD", .balance: "12.34", .bonusBalance: "0.01",
                       .depositAmounts: "10;20", .depositLimitsMinimum: "1", .depositLimitsMaximum: "100"]),
            staged(5, [.websiteId: "web_1", .customerId: "cus_j", .currency: "JPY", .balance: "1500"]),
            staged(6, [.websiteId: "web_1", .customerId: "@SUM(A1)", .currency: "USD", .balance: "-5.00"]),
            staged(7, [.websiteId: "web_1", .customerId: "=HYPERLINK(\"http://evil.example\",\"x\")", .currency: "EUR", .balance: "1,000.00",
                       .redirectUrl: "+cmd|' /C calc'!A0"]),
            staged(8, [.websiteId: "web_1", .customerId: "''-already", .currency: "BHD", .balance: "0.0005", .notificationUrl: "\tx"]),
            staged(9, [.websiteId: hostile, .customerId: hostile, .currency: "<b>", .balance: "1"]),
        ]
        #expect(rows.map(\.state) == [.pending, .pending, .pending, .pending, .rejected, .rejected, .rejected, .rejected])
        try ledger.stageRows(batchID: batch.id, rows: rows)
        try ledger.finishStaging(batchID: batch.id, rowCount: 8, valid: 4, rejected: 4, controlVerdict: .absent, controlDetail: nil)
        let open = try ledger.rows(batchID: batch.id, states: [.pending])
        let byLine = Dictionary(uniqueKeysWithValues: open.map { ($0.line, $0.id) })
        let writer = ledger.writer()
        for line in [2, 3, 5] {
            let rowID = byLine[line]!
            let a = try await writer.recordIntent(rowID: rowID, runID: runID, operation: .createCashier)
            try await writer.recordOutcome(attemptID: a, httpStatus: 201, latencyMs: 40 + line, error: nil, returnedID: "cas_\(line)",
                                           outcome: .succeeded, then: .cashierCreated(cashierID: "cas_\(line)"))
            let d = try await writer.recordIntent(rowID: rowID, runID: runID, operation: .createDepositRequest)
            try await writer.recordOutcome(attemptID: d, httpStatus: 201, latencyMs: 60 + line, error: nil, returnedID: "dep_\(line)",
                                           outcome: .succeeded, then: .done(depositRequestID: "dep_\(line)"))
        }
        let rowID = byLine[4]!
        for status in [429, 500] {
            let a = try await writer.recordIntent(rowID: rowID, runID: runID, operation: .createCashier)
            try await writer.recordOutcome(attemptID: a, httpStatus: status, latencyMs: 900, error: "HTTP \(status)", returnedID: nil,
                                           outcome: .retryable)
        }
        let a = try await writer.recordIntent(rowID: rowID, runID: runID, operation: .createCashier)
        try await writer.recordOutcome(attemptID: a, httpStatus: nil, latencyMs: 3000, error: "timeout <b>", returnedID: nil, outcome: .retryable,
                                       then: .failed(reasonsJSON: #"[{"field":"row","message":"gave up after 3 attempts: timeout <b>"}]"#))
        await writer.shutdown()
        try ledger.finishRun(id: runID, status: status, exitCode: exitCode)
    }

    func build() throws -> ReportData {
        try ReportBuilder(ledger: ledger, now: { Date(timeIntervalSince1970: 1_795_000_100) }).build(runID: runID)
    }
}

func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

@Suite struct ReportJSONTests {
    @Test func countsAndMoneyMatchTheLedgerExactly() async throws {
        let f = try await Fixture()
        let json = try parse(ReportJSON.render(try f.build()))
        #expect(json["schemaVersion"]?.numberText == "1")
        let a = try f.ledger.accounting(runID: f.runID, batchID: f.batch.id)
        let counts = json["counts"]!
        #expect(counts["read"]?.numberText == "\(a.read)")
        #expect(counts["done"]?.numberText == "\(a.done)")
        #expect(counts["rejected"]?.numberText == "\(a.rejected)")
        #expect(counts["failed"]?.numberText == "\(a.failed)")
        #expect(counts["inDoubt"]?.numberText == "\(a.inDoubt)")
        #expect(counts["skipped"]?.numberText == "\(a.skipped)")
        #expect([a.read, a.done, a.rejected, a.failed] as [Int] == [8, 3, 4, 1])

        let run = json["run"]!
        #expect(run["id"]?.numberText == "\(f.runID)")
        #expect(run["exitCode"]?.numberText == "3")
        #expect(run["batches"]?.arrayValue?.first?["sha256"]?.stringValue == sha("night-1"))
        #expect(run["batches"]?.arrayValue?.first?["path"]?.stringValue == "/in/night<1>.csv")
        #expect(run["durationSeconds"]?.numberText != nil)

        let totals = json["totals"]!.arrayValue!
        let usd = totals.first { $0["currency"]?.stringValue == "USD" }!
        #expect(usd["balance"]?["input"]?.stringValue == "42.39")      // 10.05 + 20.00 + 12.34
        #expect(usd["balance"]?["sent"]?.stringValue == "30.05")       // the failed row is not sent
        #expect(usd["bonusBalance"]?["input"]?.stringValue == "1.01")
        #expect(usd["pendingPayoutTotal"]?["input"]?.stringValue == "5.10")
        let jpy = totals.first { $0["currency"]?.stringValue == "JPY" }!
        #expect(jpy["balance"]?["sent"]?.stringValue == "1500")

        let ops = json["requests"]!["operations"]!.arrayValue!
        let cashier = ops.first { $0["operation"]?.stringValue == "create_cashier" }!
        #expect(cashier["sent"]?.numberText == "6")
        #expect(cashier["429s"]?.numberText == "1")
        #expect(cashier["retries"]?.numberText == "2")
        #expect(cashier["byStatus"]?["201"]?.numberText == "3")
        #expect(cashier["byStatus"]?["none"]?.numberText == "1")
        #expect(cashier["latencyMs"]?["max"]?.numberText == "3000")
        #expect(cashier["latencyMs"]?["p50"]?.numberText == "45")
        #expect(json["previousRun"] == JSONValue.null)
    }

    /// A previous night that recorded its reconciliation is compared as it was recorded: its row
    /// accounting and totals then, whatever its rows' states are now.
    @Test func thePreviousNightIsItsRecordedReconciliation() async throws {
        let f = try await Fixture()
        let totals = ReconciliationTotals(websiteID: "web_1", currency: "USD", exponent: 2, inputRows: 2, sentRows: 2, comparedCashiers: 2,
                                          figures: Figure.allCases.map { FigureTotals(figure: $0, exponent: 2, inputMinor: 1_000, sentMinor: 1_000) })
        try f.ledger.recordReconciliation(ReconciliationReport(
            runID: f.runID, method: .ledger, reconciledAt: Date(timeIntervalSince1970: 1_795_000_000), baselineRunID: nil, breaks: [],
            totals: [totals],
            accounting: [BatchAccountingCheck(batchID: f.batch.id, sha256: f.batch.sha256, path: f.batch.path, read: 8,
                                              rows: RowCounts(read: 8, done: 5, rejected: 3), problems: [])],
            depositChecks: nil, counts: ReconciliationCounts(breaks: [])))
        let run2 = try f.ledger.beginRun(command: "run")
        try f.ledger.finishRun(id: run2, status: .finished, exitCode: 0)
        let prev = try parse(ReportJSON.render(try ReportBuilder(ledger: f.ledger).build(runID: run2)))["previousRun"]!
        #expect(prev["id"]?.numberText == "\(f.runID)")
        #expect(prev["counts"]?["read"]?["previous"]?.numberText == "8")
        #expect(prev["counts"]?["done"]?["previous"]?.numberText == "5", "as recorded, not the 3 done now")
        #expect(prev["counts"]?["failed"]?["previous"]?.numberText == "0")
        let usd = prev["totals"]!.arrayValue!.first { $0["currency"]?.stringValue == "USD" }!
        #expect(usd["balance"]?["previous"]?.stringValue == "10.00")
    }

    /// The previous night is the previous sending one: a dry run in between sent nothing.
    @Test func previousRunDifferences() async throws {
        let f = try await Fixture()
        let dry = try f.ledger.beginRun(command: "run", optionsJSON: #"{"command":"run","dryRun":true}"#)
        try f.ledger.finishRun(id: dry, status: .finished, exitCode: 0)
        let run2 = try f.ledger.beginRun(command: "run", optionsJSON: #"{"command":"run","dryRun":false}"#)
        let (b2, _) = try f.ledger.upsertBatch(NewBatch(sha256: sha("night-2"), path: "/in/2.csv", format: .csv), runID: run2)
        try f.ledger.stageRows(batchID: b2.id, rows: [
            staged(2, [.websiteId: "web_1", .customerId: "cus_z", .currency: "USD", .balance: "0.01"]),
        ])
        try f.ledger.finishStaging(batchID: b2.id, rowCount: 1, valid: 1, rejected: 0, controlVerdict: .absent, controlDetail: nil)
        try f.ledger.finishRun(id: run2, status: .finished, exitCode: 0)
        let json = try parse(ReportJSON.render(try ReportBuilder(ledger: f.ledger).build(runID: run2)))
        let prev = json["previousRun"]!
        #expect(prev["id"]?.numberText == "\(f.runID)")
        #expect(prev["counts"]?["read"]?["difference"]?.numberText == "-7")
        let usd = prev["totals"]!.arrayValue!.first { $0["currency"]?.stringValue == "USD" }!
        #expect(usd["balance"]?["previous"]?.stringValue == "42.39")
        #expect(usd["balance"]?["current"]?.stringValue == "0.01")
        #expect(usd["balance"]?["difference"]?.stringValue == "-42.38")
    }

    @Test func breaksFromTheLedgerWithLifecycleAndExactDifferences() async throws {
        let f = try await Fixture()
        let first = Date(timeIntervalSince1970: 1_794_800_000)
        let found = [
            Break(websiteID: "web_1", customerID: hostile, currency: "BHD", exponent: 3, field: .pendingPayoutTotal, lifecycle: .persisting,
                  expectedMinor: 716_998, actualMinor: 700_000, firstSeenRunID: f.runID, firstSeenAt: first),
            Break(websiteID: "web_1", customerID: "cus_a", currency: "USD", exponent: 2, field: .balance, lifecycle: .new,
                  expectedMinor: 1005, actualMinor: 2005, firstSeenRunID: f.runID, firstSeenAt: first),
        ]
        try f.ledger.recordReconciliation(ReconciliationReport(
            runID: f.runID, method: .ledger, reconciledAt: first, baselineRunID: nil, breaks: found, totals: [], accounting: [],
            depositChecks: nil, counts: ReconciliationCounts(breaks: found)))
        let data = try f.build()
        let json = try parse(ReportJSON.render(data))
        let breaks = json["breaks"]!.arrayValue!
        #expect(breaks.count == 2)
        let bhd = breaks.first { $0["currency"]?.stringValue == "BHD" }!
        #expect(bhd["difference"]?.stringValue == "-16.998")
        #expect(bhd["expected"]?.stringValue == "716.998")
        #expect(bhd["lifecycle"]?.stringValue == "persisting")
        #expect(bhd["highPriority"] == JSONValue.bool(true))
        #expect(bhd["customerId"]?.stringValue == hostile)
        let html = ReportHTML.render(data)
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        let prom = MetricsProm.render(data, previous: nil)
        #expect(prom.contains(#"cashier_batch_breaks{field="pendingPayoutTotal"} 1"#))
        #expect(prom.contains(#"cashier_batch_breaks{field="balance"} 1"#))
    }
}

@Suite struct ReportHTMLTests {
    @Test func hostileValuesAreEscapedAndThePageIsSelfContained() async throws {
        let f = try await Fixture()
        let html = ReportHTML.render(try f.build())
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("/in/night&lt;1&gt;.csv"))
        #expect(html.contains("timeout &lt;b&gt;"))
        #expect(!html.contains("timeout <b>"))
        for external in ["<link", "src=", "@import", "url(", "<img", "<iframe", "<object"] {
            #expect(!html.contains(external), "external reference \(external)")
        }
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespace.contains("href="))
        #expect(!withoutNamespace.contains("\"http"))
        #expect(html.contains("<svg"))
        #expect(htmlEscape("a&b\"'<>") == "a&amp;b&quot;&#39;&lt;&gt;")
    }
}

@Suite struct RejectsCSVTests {
    @Test func roundTripsThroughTheBatchReaderWithTheSameValuesAndMoney() async throws {
        let f = try await Fixture()
        let data = try f.build()
        let out = f.dir.path("reports")
        try ReportWriter(directory: out).write(data, formats: [.csv])
        let path = out + "/rejects.csv"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("'@SUM(A1)"))
        #expect(text.contains(",'-5.00,"))
        #expect(text.contains("\"'=HYPERLINK("))
        #expect(text.contains("'+cmd|"))
        #expect(text.contains("'''-already"))
        let lines = text.split(separator: "\r\n")
        #expect(lines.first!.hasPrefix("websiteId,customerId,currency,balance,bonusBalance,"))
        #expect(lines.first!.hasSuffix(",reason,attempts"))
        for line in lines.dropFirst() {
            for cell in line.split(separator: ",", omittingEmptySubsequences: false) {
                let bare = cell.hasPrefix("\"") ? cell.dropFirst() : cell
                if let c = bare.first { #expect(!"=+-@\t\r".contains(c), "unguarded cell \(cell)") }
            }
        }

        // Re-import: exactly the rejected and failed rows; a rejected row's original cells back byte
        // for byte, the failed row's request written back as cells.
        let originals = try f.ledger.rows(batchID: f.batch.id).filter { $0.state == .rejected || $0.state == .failed }
        var reread: [(RawRecord, RowVerdict)] = []
        let summary = try BatchScan.scan(path: path) { record, verdict in reread.append((record, verdict)) }
        #expect(summary.rowsRead == 5)
        #expect(summary.rowsRead == originals.count)
        for (original, (record, _)) in zip(originals, reread) where original.state == .rejected {
            #expect(record.sourceJSON == original.sourceJSON, "line \(original.line)")
        }
        // The failed row was valid: it comes back valid with the same money and the same payload.
        let valid = reread.compactMap { if case let .valid(row) = $0.1 { row } else { nil } }
        #expect(valid.count == 1)
        #expect(valid.first?.cashier.balance?.description == "12.34")
        #expect(valid.first?.cashier.bonusBalance?.description == "0.01")
        #expect(valid.first.map { Ledger.payloadHash($0.payloadJSON) } == originals.first { $0.state == .failed }?.payloadHash)
        let kept = originals.first { $0.state == .failed }?.cashierRow
        #expect(valid.first?.cashier == kept?.cashier && valid.first?.deposit == kept?.deposit, "the row the ledger reads back is the one re-read")
        // The rejected ones are rejected again for the same reasons (a guarded -5.00 is still -5.00).
        let again = reread.compactMap { if case let .rejected(_, issues) = $0.1 { issues } else { nil } }
        #expect(again.count == 4)
        #expect(again.contains { $0.contains { $0.field == "balance" && $0.message.contains("-5.00") } })
    }

    @Test func ordinaryBatchesKeepLeadingApostrophes() throws {
        let dir = try TempDir()
        let path = dir.path("plain.csv")
        try "websiteId,customerId,currency,balance\nweb_1,'-x,USD,1.00\n".write(toFile: path, atomically: true, encoding: .utf8)
        var ids: [String] = []
        _ = try BatchScan.scan(path: path) { record, _ in ids.append(record[.customerId]?.scalarText ?? "") }
        #expect(ids == ["'-x"])
        // In a rejects file (annotation columns present) exactly one guard apostrophe goes.
        let rejects = dir.path("rejects.csv")
        try "websiteId,customerId,currency,balance,reason,attempts\nweb_1,'-x,USD,'-1.00,balance: bad,2\nweb_1,'plain,USD,1,,0\n"
            .write(toFile: rejects, atomically: true, encoding: .utf8)
        var cells: [[String]] = []
        _ = try BatchScan.scan(path: rejects) { record, _ in
            cells.append([record[.customerId]?.scalarText ?? "", record[.balance]?.scalarText ?? ""])
        }
        #expect(cells == [["-x", "-1.00"], ["'plain", "1"]])
    }

    @Test func guardIsABijection() {
        for value in ["=1", "+1", "-1", "@a", "\tx", "\rx", "'=1", "''+", "'", "''", "plain", "'plain", ""] {
            let guarded = RejectsCSV.needsGuard(value) ? "'" + value : value
            // The reader's rule: `'`+ then a trigger loses one `'`.
            var back = guarded
            if guarded.hasPrefix("'"), RejectsCSV.needsGuard(guarded) { back.removeFirst() }
            #expect(back == value, "\(value)")
        }
    }
}

@Suite struct MetricsPromTests {
    static var sample: Regex<AnyRegexOutput> { try! Regex(#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*\})? -?[0-9]+(\.[0-9]+)?$"#) }
    static var comment: Regex<AnyRegexOutput> { try! Regex(#"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$"#) }

    @Test func parsesLineByLine() async throws {
        let f = try await Fixture()
        let text = MetricsProm.render(try f.build(), previous: nil)
        #expect(text.hasSuffix("\n"))
        var names = Set<String>()
        var typed = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("#") {
                #expect((try? Self.comment.wholeMatch(in: String(line))) != nil, "bad comment: \(line)")
                if line.hasPrefix("# TYPE ") { typed.insert(String(line.split(separator: " ")[2])) }
            } else {
                #expect((try? Self.sample.wholeMatch(in: String(line))) != nil, "bad sample: \(line)")
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(typed.contains(name), "sample before its TYPE: \(line)")
                names.insert(name)
            }
        }
        #expect(names.isSuperset(of: [
            "cashier_batch_last_run_timestamp_seconds", "cashier_batch_last_success_timestamp_seconds", "cashier_batch_rows",
            "cashier_batch_breaks", "cashier_batch_duration_seconds", "cashier_batch_requests_total",
        ]))
        #expect(text.contains(#"cashier_batch_rows{state="done"} 3"#))
        #expect(text.contains(#"cashier_batch_rows{state="failed"} 1"#))
        #expect(text.contains(#"cashier_batch_rows{state="rejected"} 4"#))
        #expect(text.contains(#"cashier_batch_requests_total{operation="create_cashier",status="429"} 1"#))
        #expect(text.contains(#"cashier_batch_requests_total{operation="create_cashier",status="none"} 1"#))
        #expect(text.contains(#"cashier_batch_breaks{field="pendingPayoutTotal"} 0"#))
        #expect(MetricsProm.escapeLabel("a\"b\\c\nd") == #"a\"b\\c\nd"#)
    }

    @Test func lastSuccessIsKeptWhenTheRunFails() async throws {
        let f = try await Fixture(exitCode: 69)
        let previous = "# TYPE cashier_batch_last_success_timestamp_seconds gauge\ncashier_batch_last_success_timestamp_seconds 1700000000.500\n"
        let text = MetricsProm.render(try f.build(), previous: previous)
        #expect(text.contains("cashier_batch_last_success_timestamp_seconds 1700000000.500\n"))
        #expect(text.contains("cashier_batch_last_run_exit_code 69\n"))
        let succeeded = try await Fixture(exitCode: 3)
        let data = try succeeded.build()
        let ok = MetricsProm.render(data, previous: previous)
        #expect(ok.contains("cashier_batch_last_success_timestamp_seconds \(String(format: "%.3f", data.run.finishedAt!.timeIntervalSince1970))\n"))
    }
}

@Suite struct ReportWriterTests {
    @Test func directoryIs0700AndEveryFile0600() async throws {
        let f = try await Fixture()
        let out = f.dir.path("deep/reports")
        let paths = try ReportWriter(directory: out).write(try f.build())
        #expect(paths.map { ($0 as NSString).lastPathComponent }.sorted()
            == ["metrics.prom", "rejects.csv", "report.html", "report.json", "summary.md"])
        let dirMode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        #expect(dirMode == 0o700)
        for path in paths {
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(path)")
        }
        // Rewriting replaces atomically and leaves no temporary file behind.
        try ReportWriter(directory: out).write(try f.build())
        let left = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty)
        let md = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
        #expect(md.contains("run \(f.runID)"))
        #expect(!md.contains("<script>"))
    }

    /// The writer stamps the build into report.json and metrics.prom (a report that has one keeps it).
    @Test func theBuildIsInReportJSONAndMetrics() async throws {
        let f = try await Fixture()
        let out = f.dir.path("stamped")
        var writer = ReportWriter(directory: out)
        writer.build = Build(release: "9.8.7", commit: "0123456789ab-dirty", swift: "6.3.1")
        try writer.write(try f.build(), formats: [.json, .prom])
        let json = try parse(try String(contentsOfFile: out + "/report.json", encoding: .utf8))
        let build = try #require(json["build"]?.objectMembers)
        #expect(build.map(\.key) == ["release", "commit", "swift"])
        #expect(build.map(\.value) == [.string("9.8.7"), .string("0123456789ab-dirty"), .string("6.3.1")])
        let prom = try String(contentsOfFile: out + "/metrics.prom", encoding: .utf8).split(separator: "\n").map(String.init)
        let at = try #require(prom.firstIndex(of: "# TYPE cashier_batch_build_info gauge"))
        #expect(prom[at - 1] == "# HELP cashier_batch_build_info Always 1: the release, commit and Swift version of the binary that wrote this file.")
        #expect(prom[at + 1] == #"cashier_batch_build_info{release="9.8.7",commit="0123456789ab-dirty",swift="6.3.1"} 1"#)
        #expect(prom.filter { $0.hasPrefix("cashier_batch_build_info") }.count == 1)

        // Data that carries its build keeps it; data with none rendered directly writes none.
        var data = try f.build()
        #expect(!ReportJSON.render(data).contains("\"build\""))
        #expect(!MetricsProm.render(data, previous: nil).contains("cashier_batch_build_info"))
        data.build = Build(release: "1.2.3", commit: "unknown", swift: "6.2.0")
        try writer.write(data, formats: [.prom])
        #expect(try String(contentsOfFile: out + "/metrics.prom", encoding: .utf8)
            .contains(#"cashier_batch_build_info{release="1.2.3",commit="unknown",swift="6.2.0"} 1"#))
    }

    @Test func formatsParse() throws {
        #expect(try ReportFormat.parseList("html, md,json") == [.html, .md, .json])
        #expect(try ReportFormat.parseList("all") == ReportFormat.allCases)
        #expect(throws: ReportError.unknownFormat("pdf")) { try ReportFormat.parseList("html,pdf") }
    }
}

/// What people read: plain text on a terminal, real reasons, labels that say when.
@Suite struct WhatPeopleReadTests {
    @Test func thePlainSummaryHasNoMarkdownEscapes() async throws {
        let data = try await Fixture().build()
        let plain = ReportMarkdown.render(data, style: .plain)
        let markdown = ReportMarkdown.render(data)
        #expect(markdown.contains("\\_") || markdown.contains("\\("), "the Markdown summary escapes")
        #expect(!plain.contains("\\_") && !plain.contains("\\(") && !plain.contains("**"), "\(plain)")
        #expect(plain.contains("cashier-batch run \(data.run.id) (run)"))
    }

    @Test func aTopReasonOnlyWhenOneStandsOut() async throws {
        // Every reason of the fixture has one row.
        let data = try await Fixture().build()
        #expect(data.reasons.allSatisfy { $0.count == 1 })
        #expect(!ReportMarkdown.render(data).contains("Top reason"))
    }

    @Test func reasonsShowARealMessageAndCountsAndBreaksSayWhen() async throws {
        let data = try await Fixture().build()
        let html = ReportHTML.render(data)
        let group = try #require(data.reasons.first { $0.pattern.contains("#") })
        let example = try #require(group.examples.first?.message)
        #expect(html.contains(">\(htmlEscape(example))</td><td class=n>"), "the group shows \(example), not \(group.pattern)")
        #expect(html.contains("Their states now (2026-11-18T11:08:20"), "counts are labelled as of now")
        #expect(ReportMarkdown.render(data).contains("Rows (now): read 8"))
    }
}

@Suite struct AttemptTallyTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    static func call(_ ms: Int?, _ status: Int?, at seconds: Double, _ outcome: AttemptOutcome = .succeeded,
                     _ operation: AttemptOperation = .createCashier) -> AttemptSample {
        AttemptSample(operation: operation, httpStatus: status, latencyMs: ms, at: t0.addingTimeInterval(seconds), outcome: outcome)
    }

    @Test func percentilesAreNearestRankOverEveryCallWithoutKeepingThem() {
        var tally = AttemptTally(span: Self.t0...Self.t0.addingTimeInterval(119.5))
        // 1…100 ms in a shuffled order, plus one call with no answer (no latency).
        for ms in (1...100).shuffled() { tally.add(Self.call(ms, ms == 7 ? 429 : 201, at: Double(ms))) }
        tally.add(Self.call(nil, nil, at: 119.5, .lost))
        let op = try! #require(tally.requests.first)
        #expect(tally.requests.count == 1)
        #expect(op.operation == .createCashier)
        #expect(op.sent == 101)
        #expect(op.p50 == 50 && op.p95 == 95 && op.max == 100)
        #expect(op.tooManyRequests == 1)
        #expect(op.byStatus.map(\.status) == ["201", "429", "none"])
        #expect(op.byStatus.map(\.count) == [99, 1, 1])
        // Bounds 10, 25, 50, 100, 250, …: 10 calls ≤ 10 ms, 15 in 11…25, 25 in 26…50, 50 in 51…100.
        #expect(op.histogram == [10, 15, 25, 50, 0, 0, 0, 0, 0, 0])
        // 119.5 s of calls: 2-second buckets (the first width w with 60·w > the span), 60 of them.
        let chart = tally.throughput
        #expect(chart.bucketSeconds == 2)
        #expect(chart.start == Self.t0)
        #expect(chart.succeeded.count == 60 && chart.other.count == 60)
        #expect(chart.succeeded.reduce(0, +) == 100 && chart.other == [Int](repeating: 0, count: 59) + [1])
        #expect(chart.succeeded[0] == 1 && chart.succeeded[1] == 2)  // 1 s; 2 s and 3 s
    }

    @Test func retriesAreTheCallsBeyondTheRowsCalledAcrossLedgers() async throws {
        // Two ledgers (shards), each one row called twice for its cashier: 2 retries in all.
        var tally = AttemptTally(span: nil)
        for index in 0..<2 {
            let dir = try TempDir()
            let ledger = try Ledger(path: dir.path("ledger-\(index).sqlite"))
            let run = try ledger.beginRun(command: "run")
            let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: sha("n\(index)"), path: "/in/n.csv", format: .csv), runID: run)
            try ledger.stageRows(batchID: batch.id, rows: [staged(2, [.websiteId: "web_1", .customerId: "cus_\(index)", .currency: "USD"])])
            let row = try #require(ledger.rows(batchID: batch.id).first).id
            let writer = ledger.writer()
            for status in [503, 201] {
                let a = try await writer.recordIntent(rowID: row, runID: run, operation: .createCashier)
                try await writer.recordOutcome(attemptID: a, httpStatus: status, latencyMs: 5, error: nil, returnedID: nil,
                                               outcome: status == 201 ? .succeeded : .retryable)
            }
            await writer.shutdown()
            try tally.add(ledger: ledger, runID: run, overview: try ledger.attemptOverview(runID: run))
        }
        let op = try #require(tally.requests.first)
        #expect(op.sent == 4 && op.retries == 2)
        #expect(tally.throughput.start == nil)  // no span given: no chart
    }
}
