import CashierModel
import Foundation
import GRDB
import Sandbox
import Testing

/// `report --merge`: a night run as 4 shards against one sandbox gives the same counts, money
/// totals and breaks as the same batch run unsharded against another sandbox with the same
/// cashiers; the shards must partition the night, and the ledgers are only read.
@Suite(.serialized) struct ReportMergeCLITests {
    static let preload = """
        {"customerId":"cus_3","websiteId":"web_1","currency":"USD","balance":99.00,"pendingPayoutTotal":1.50}
        {"customerId":"cus_17","websiteId":"web_1","currency":"USD","balance":3.25,"pendingPayoutTotal":0.75}
        {"customerId":"cus_28","websiteId":"web_1","currency":"USD","balance":28.25,"pendingPayoutTotal":1.50,"bonusBalance":5}
        """

    /// 40 valid rows (balance i.25, pendingPayoutTotal 1.50, deposits 10;20), one in EUR, and two
    /// rows rejected for their currency.
    func nightBatch(_ dir: TempDir) throws -> String {
        var text = "websiteId,customerId,currency,balance,pendingPayoutTotal,deposit.amounts\n"
        for i in 0..<40 { text += "web_1,cus_\(i),USD,\(i).25,1.50,10;20\n" }
        text += "web_1,cus_7,EUR,3.10,0,10\n"
        text += "web_1,cus_bad-1,XXX,1.00,0,10\n"
        text += "web_1,cus_bad-2,ZZZ,2.00,0,10\n"
        return try dir.write("night.csv", text)
    }

    /// Every other cashier of the batch already holds its row's figures at Rebilly, so only the
    /// three preloaded above break (the rejected rows' currencies make no cashier).
    func start(_ batch: String) async throws -> RunningSandbox {
        try await TodaysRebillyCLITests.sandbox(preload: Self.preload, holding: [batch],
                                                except: ["cus_3", "cus_17", "cus_28", "cus_bad-1", "cus_bad-2"])
    }

    func run(_ sandbox: RunningSandbox, db: String, reports: String, _ extra: [String], batch: String) async throws -> CLIResult {
        try await runCLI(["run", "--api-url", sandbox.baseURL, "--db", db, "--rate", "1000/s",
                          "--in-doubt-settle", "1", "--report-dir", reports] + extra + [batch],
                         environment: ["REBILLY_API_KEY": sandbox.apiKey])
    }

    func json(_ path: String) throws -> JSONValue {
        try JSONParser.parse(String(contentsOfFile: path, encoding: .utf8))
    }

    /// The breaks of a report.json as comparable text lines.
    func breaks(_ report: JSONValue) -> [String] {
        (report["breaks"]?.arrayValue ?? []).map { b in
            ["websiteId", "customerId", "currency", "field", "expected", "actual", "difference", "lifecycle"]
                .map { b[$0]?.stringValue ?? "null" }.joined(separator: " ")
        }.sorted()
    }

    /// `name{labels} value` samples of a metrics file whose labels include `label`.
    func samples(_ text: String, _ name: String, with label: String) -> [Int] {
        text.split(separator: "\n").filter { $0.hasPrefix(name + "{") && $0.contains(label) }
            .compactMap { Int($0.split(separator: " ").last ?? "") }
    }

    @Test func fourShardsMergeIntoTheSingleRunsReport() async throws {
        let dir = try TempDir()
        let batch = try nightBatch(dir)
        let shardsSandbox = try await start(batch)
        var codes: [Int32] = []
        for i in 0..<4 {
            try FileManager.default.createDirectory(atPath: dir.path("shards/shard-\(i)"), withIntermediateDirectories: true)
            let r = try await run(shardsSandbox, db: dir.path("shards/shard-\(i)/ledger.sqlite"), reports: dir.path("shards/shard-\(i)/reports"),
                                  ["--shard", "\(i)/4"], batch: batch)
            #expect([0, 3, 4].contains(r.status), "shard \(i): \(r.stderr)")
            codes.append(r.status)
        }
        let shardStats = try await sandboxStats(shardsSandbox)
        await shardsSandbox.stop()

        let singleSandbox = try await start(batch)
        let single = try await run(singleSandbox, db: dir.path("single.sqlite"), reports: dir.path("single"), [], batch: batch)
        let singleStats = try await sandboxStats(singleSandbox)
        await singleSandbox.stop()
        #expect(single.status == 4, "\(single.stderr)")
        #expect(shardStats["cashiers"] == singleStats["cashiers"] && shardStats["depositRequests"] == singleStats["depositRequests"],
                "\(shardStats) vs \(singleStats)")

        let before = try (0..<4).map { try fileState(dir.path("shards/shard-\($0)/ledger.sqlite")) }
        let merged = try await runCLI(["report", "--merge", dir.path("shards"), "--out", dir.path("merged")])
        #expect(merged.status == 0, "\(merged.stderr)")
        for i in 0..<4 {
            let after = try fileState(dir.path("shards/shard-\(i)/ledger.sqlite"))
            #expect(after.bytes == before[i].bytes && after.mode == before[i].mode, "shard \(i)'s ledger was changed by report --merge")
        }
        let single2 = try await runCLI(["report", "--db", dir.path("single.sqlite"), "--out", dir.path("single-report")])
        #expect(single2.status == 0, "\(single2.stderr)")

        let m = try json(dir.path("merged/report.json"))
        let s = try json(dir.path("single-report/report.json"))
        // One unsharded ledger is a night of one shard (0/1): its merge is its report.
        let alone = try await runCLI(["report", "--merge", dir.path("single.sqlite"), "--out", dir.path("alone")])
        #expect(alone.status == 0, "\(alone.stderr)")
        let a = try json(dir.path("alone/report.json"))
        #expect(a["counts"] == s["counts"] && a["totals"] == s["totals"] && breaks(a) == breaks(s))
        // Counts: 43 read, 41 done, 2 rejected, exactly as the single run.
        #expect(m["counts"] == s["counts"], "\(String(describing: m["counts"])) vs \(String(describing: s["counts"]))")
        #expect(m["counts"]?["read"] == .number("43") && m["counts"]?["done"] == .number("41") && m["counts"]?["rejected"] == .number("2"))
        // Money totals per website and currency, every figure, exact decimal text.
        #expect(m["totals"] == s["totals"], "\(String(describing: m["totals"]))\nvs\n\(String(describing: s["totals"]))")
        let usd = m["totals"]?.arrayValue?.first { $0["currency"]?.stringValue == "USD" }
        // Σ i.25 for i < 40 = 780 + 40 × 0.25 = 790.00.
        #expect(usd?["balance"]?["input"] == .string("790.00"), "\(String(describing: usd))")
        // Breaks: cus_3 (balance 99.00 vs 3.25), cus_17 (3.25 vs 17.25, pending 0.75 vs 1.50), cus_28 (bonus 5 vs 0).
        let mergedBreaks = breaks(m)
        #expect(mergedBreaks == breaks(s))
        #expect(mergedBreaks.count == 4, "\(mergedBreaks)")
        #expect(mergedBreaks.contains("web_1 cus_3 USD balance 3.25 99.00 95.75 new"), "\(mergedBreaks)")
        // The worst exit code of the shards is the night's.
        #expect(m["run"]?["exitCode"] == .number(String(codes.max()!)))
        #expect(codes.max() == 4)
        #expect(m["verdict"]?["text"]?.stringValue?.hasPrefix("4 shards merged; Finished with reconciliation breaks (worst exit code 4, of shard") == true,
                "\(String(describing: m["verdict"]))")
        // A row per shard: the shards list and the batch table.
        let shards = m["shards"]?.arrayValue ?? []
        #expect(shards.map { $0["shard"]?.stringValue ?? "" } == ["0/4", "1/4", "2/4", "3/4"])
        #expect(shards.map { $0["run"]?["exitCode"] ?? .null } == codes.map { .number(String($0)) })
        let batches = m["run"]?["batches"]?.arrayValue ?? []
        #expect(batches.map { $0["shard"]?.stringValue ?? "" } == ["0/4", "1/4", "2/4", "3/4"])
        #expect(Set(batches.map { $0["sha256"] }).count == 1)
        let html = try String(contentsOfFile: dir.path("merged/report.html"), encoding: .utf8)
        for i in 0..<4 { #expect(html.contains("<tr><td>\(i)/4</td><td class=mono>\(dir.path("shards/shard-\(i)/ledger.sqlite"))</td>"), "shard row \(i)") }
        #expect(html.contains("4 shards merged"))
        // Metrics: every sample labelled with its shard; their sums are the single run's.
        let prom = try String(contentsOfFile: dir.path("merged/metrics.prom"), encoding: .utf8)
        let singleProm = try String(contentsOfFile: dir.path("single-report/metrics.prom"), encoding: .utf8)
        for state in ["read", "done", "rejected"] {
            let perShard = samples(prom, "cashier_batch_rows", with: "state=\"\(state)\"")
            #expect(perShard.count == 4, "\(prom)")
            let whole = singleProm.split(separator: "\n").first { $0.hasPrefix("cashier_batch_rows{state=\"\(state)\"}") }
            #expect(whole.flatMap { Int($0.split(separator: " ").last ?? "") } == perShard.reduce(0, +), "\(state)")
        }
        #expect(prom.contains("cashier_batch_last_run_exit_code{shard=\"0\",shards=\"4\"} \(codes[0])"), "\(prom)")
        #expect(!prom.split(separator: "\n").contains { $0.hasPrefix("cashier_batch_rows{state=") }, "no unlabelled row sample")
        let merged404 = samples(prom, "cashier_batch_breaks", with: "field=\"balance\"").reduce(0, +)
        #expect(merged404 == 2, "\(prom)")
        // rejects.csv: both rejected rows, whichever shard holds them.
        let rejects = try String(contentsOfFile: dir.path("merged/rejects.csv"), encoding: .utf8)
        #expect(rejects.contains("cus_bad-1") && rejects.contains("cus_bad-2"))
        #expect(try String(contentsOfFile: dir.path("merged/summary.md"), encoding: .utf8).contains("- shard 3/4 ("))

        // Not a partition: a shard missing, a shard twice, ledgers of another split.
        let three = try await runCLI(["report", "--merge"] + (0..<3).map { dir.path("shards/shard-\($0)/ledger.sqlite") } + ["--out", dir.path("x")])
        #expect(three.status == 64)
        #expect(three.stderr.contains("error: the shards cannot be merged: shard 3/4 missing: the merged report needs the ledger of every shard 0…3"), "\(three.stderr)")
        let twice = try await runCLI(["report", "--merge", dir.path("shards"), dir.path("shards/shard-2/ledger.sqlite"), "--out", dir.path("x")])
        #expect(twice.status == 64)
        #expect(twice.stderr.contains("shard 2/4 is given twice (\(dir.path("shards/shard-2/ledger.sqlite")) and \(dir.path("shards/shard-2/ledger.sqlite")))"), "\(twice.stderr)")
        let mixed = try await runCLI(["report", "--merge", dir.path("shards/shard-0/ledger.sqlite"), dir.path("single.sqlite"), "--out", dir.path("x")])
        #expect(mixed.status == 64)
        #expect(mixed.stderr.contains("the ledgers are not shards of one night"), "\(mixed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("x")), "a refused merge writes no report")
        let none = try await runCLI(["report", "--merge", dir.path("nothing-here"), "--out", dir.path("x")])
        #expect(none.status == 66, "\(none.stderr)")
        let usage = try await runCLI(["report", "--merge", "--run", "2", dir.path("shards")])
        #expect(usage.status == 64 && usage.stderr.contains("--run cannot be given with --merge"), "\(usage.stderr)")
    }

    /// Two ledgers whose rows overlap: shard 0/2's ledger copied and relabelled 1/2 (its run's
    /// options say 1/2), so every index is present once but each row is in both: refused, naming a
    /// row whose customer is not shard 1's.
    @Test func overlappingShardsAreRefused() async throws {
        let dir = try TempDir()
        var text = "websiteId,customerId,currency,balance\n"
        for i in 0..<12 { text += "web_1,cus_o-\(i),USD,\(i).00\n" }
        let batch = try dir.write("b.csv", text)
        // A second export of the night repeats cus_o-0 (same website and currency): within one
        // ledger that is no overlap.
        var second = "websiteId,customerId,currency,balance\n"
        for i in 12..<20 { second += "web_1,cus_o-\(i),USD,\(i).00\n" }
        second += "web_1,cus_o-0,USD,99.00\n"
        let batch2 = try dir.write("b2.csv", second)
        for i in 0..<2 {
            let r = try await runCLI(["run", "--dry-run", "--db", dir.path("s\(i).sqlite"), "--shard", "\(i)/2", batch, batch2])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let ok = try await runCLI(["report", "--merge", dir.path("s0.sqlite"), dir.path("s1.sqlite"), "--out", dir.path("m")])
        #expect(ok.status == 0, "\(ok.stderr)")
        let m = try json(dir.path("m/report.json"))
        #expect(m["counts"]?["read"] == .number("21"), "\(String(describing: m["counts"]))")
        #expect((m["run"]?["batches"]?.arrayValue ?? []).count == 4)

        try FileManager.default.copyItem(atPath: dir.path("s0.sqlite"), toPath: dir.path("fake1.sqlite"))
        let queue = try DatabaseQueue(path: dir.path("fake1.sqlite"))
        try await queue.write { db in try db.execute(sql: "UPDATE runs SET options_json = replace(options_json, '\"0/2\"', '\"1/2\"')") }
        try queue.close()
        let overlap = try await runCLI(["report", "--merge", dir.path("s0.sqlite"), dir.path("fake1.sqlite"), "--out", dir.path("d")])
        #expect(overlap.status == 64, "\(overlap.stderr)")
        #expect(overlap.stderr.contains("error: the shards cannot be merged: line "), "\(overlap.stderr)")
        let first = try #require((0..<12).first { Shard.shard(ofCustomerID: "cus_o-\($0)", count: 2) == 0 })
        #expect(overlap.stderr.contains("error: the shards cannot be merged: line \(first + 2) of \(batch) (customer cus_o-\(first)) is in shard 1/2 (\(dir.path("fake1.sqlite"))), but its customer belongs to shard 0/2: the shards overlap; merge the ledgers of one --shard i/N split"), "\(overlap.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("d")))
    }
}
