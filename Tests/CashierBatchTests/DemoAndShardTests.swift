import BatchRun
import CashierModel
import Foundation
import Ledger
import Sandbox
import Testing

@Suite(.serialized) struct DemoAndShardTests {
    /// `demo` runs the night on SampleData against its own sandbox: exit 0 although the
    /// batch ends with breaks (4), report.html written and its path printed, every row in the ledger.
    @Test func demoRunsEndToEndAndPrintsTheReportPath() async throws {
        let dir = try TempDir()
        let out = dir.path("demo")
        let result = try await runCLI(["demo", "--out", out])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let html = out + "/report.html"
        let size = (try? FileManager.default.attributesOfItem(atPath: html)[.size] as? Int) ?? 0
        #expect(size > 0)
        #expect(result.stdout.contains("Report: \(html)"), "\(result.stdout)")
        #expect(result.stdout.contains("Batch exit code: 4"), "\(result.stdout)")
        #expect(result.stdout.contains("cashier-batch run 1"), "the summary is printed: \(result.stdout)")

        // The reports and the first log line name the build.
        let release = try VersionCLITests.packageRelease(), swift = try VersionCLITests.toolchainSwift(), commit = VersionCLITests.expectedCommit
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any])
        #expect(report["build"] as? [String: String] == ["release": release, "commit": commit, "swift": swift])
        let metrics = try String(contentsOfFile: out + "/metrics.prom", encoding: .utf8)
        #expect(metrics.contains("\ncashier_batch_build_info{release=\"\(release)\",commit=\"\(commit)\",swift=\"\(swift)\"} 1\n"))
        let firstLog = try #require(result.stderr.split(separator: "\n").first)
        #expect(firstLog.hasSuffix(" INFO cashier-batch release=\(release) commit=\(commit) swift=\(swift)"), "\(result.stderr)")

        let ledger = try Ledger(path: out + "/ledger.sqlite")
        let runs = try ledger.runs()
        #expect(runs.count == 1)
        let run = try #require(runs.first)
        var totals: [RowState: Int] = [:]
        for batch in try ledger.batches(runID: run.id) {
            for (state, n) in try ledger.countsByState(batchID: batch.id) { totals[state, default: 0] += n }
        }
        // SampleData: 41 + 30 + 12 valid rows, bad-rows.csv 5 valid and 24 rejected.
        #expect(totals[.done] == 88, "\(totals)")
        #expect(totals[.rejected] == 24, "\(totals)")
        #expect(totals.values.reduce(0, +) == 112, "\(totals)")

        // A second demo starts from a fresh ledger.
        let again = try await runCLI(["demo", "--out", out])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Ledger(path: out + "/ledger.sqlite").runs().count == 1)
    }

    /// A batch whose rows spread over shards: distinct customers, one customer in two
    /// currencies, a rejected row with a customerId and one without.
    func shardBatch(_ dir: TempDir, count: Int) throws -> String {
        var text = "websiteId,customerId,currency,balance,pendingPayoutTotal,deposit.amounts\n"
        for i in 0..<count { text += "web_1,cus_shard-\(i),USD,\(i).25,1.50,10;20\n" }
        text += "web_1,cus_shard-7,EUR,3.00,0,10\n"
        text += "web_1,cus_shard-rejected,XXX,1.00,0,10\n"
        text += "web_1,,USD,1.00,0,10\n"
        return try dir.write("shards.csv", text)
    }

    /// Every row of a ledger's only run, by line.
    func stagedRows(_ path: String) throws -> [RowRecord] {
        let ledger = try Ledger(path: path)
        var rows: [RowRecord] = []
        for run in try ledger.runs() {
            for batch in try ledger.batches(runID: run.id) { rows += try ledger.rows(batchID: batch.id) }
        }
        return rows
    }

    @Test func shardHashIsFNV1a64OfTheCustomerIdBytes() throws {
        #expect(Shard.fnv1a64("".utf8) == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.fnv1a64("a".utf8) == 0xaf63_dc4c_8601_ec8c)
        #expect(Shard.fnv1a64("foobar".utf8) == 0x8594_4171_f739_67e8)
        #expect(Shard.shard(ofCustomerID: "foobar", count: 7) == Int(0x8594_4171_f739_67e8 as UInt64 % 7))
        #expect(try Shard(parsing: "2/3") == Shard(index: 2, count: 3))
        #expect(throws: ShardError.self) { try Shard(parsing: "3/3") }
        #expect(throws: ShardError.self) { try Shard(parsing: "-1/3") }
        #expect(throws: ShardError.self) { try Shard(parsing: "0/0") }
        #expect(throws: ShardError.self) { try Shard(parsing: "1") }
    }

    @Test func shardOptionIsValidated() async throws {
        let dir = try TempDir()
        let batch = try shardBatch(dir, count: 3)
        let base = ["run", "--dry-run", "--db", dir.path("l.sqlite"), batch]
        #expect(try await runCLI(base + ["--shard", "3/3"]).status == 64)
        #expect(try await runCLI(base + ["--shard", "x"]).status == 64)
        let tooSlow = try await runCLI(base + ["--shard", "0/4", "--rate", "3/s"])
        #expect(tooSlow.status == 64)
        #expect(tooSlow.stderr.contains("--no-rate-split"), "\(tooSlow.stderr)")
        #expect(try await runCLI(base + ["--shard", "0/4", "--rate", "3/s", "--no-rate-split"]).status != 64)
    }

    /// The shards 0..N-1 of a batch partition it: every row staged by exactly one shard,
    /// the one its customerId hashes to; rows of other shards are counted in the log.
    @Test func shardsPartitionTheBatchExactlyInDryRuns() async throws {
        let dir = try TempDir()
        let batch = try shardBatch(dir, count: 60)
        let all = try await runCLI(["run", "--dry-run", "--db", dir.path("all.sqlite"), batch])
        #expect(all.status == 3, "\(all.stderr)")
        let everyLine = try stagedRows(dir.path("all.sqlite")).map(\.line)
        #expect(everyLine.count == 63)

        let n = 3
        var seen: [Int: Int] = [:]
        for i in 0..<n {
            let db = dir.path("shard-\(i).sqlite")
            let result = try await runCLI(["run", "--dry-run", "--db", db, "--shard", "\(i)/\(n)", batch])
            #expect([0, 3].contains(result.status), "\(result.stderr)")
            let rows = try stagedRows(db)
            #expect(result.stderr.contains("otherShards=\(63 - rows.count)"), "\(result.stderr)")
            for row in rows {
                seen[row.line, default: 0] += 1
                if let customer = row.customerID, !customer.isEmpty {
                    #expect(Shard.shard(ofCustomerID: customer, count: n) == i, "line \(row.line) \(customer) in shard \(i)")
                } else {
                    #expect(i == 0, "a row without customerId belongs to shard 0")
                }
            }
            #expect(!rows.isEmpty, "60 customers leave no shard of 3 empty")
            // The customer in two currencies stays together.
            let sevens = rows.filter { $0.customerID == "cus_shard-7" }
            #expect(sevens.isEmpty || sevens.count == 2)
        }
        #expect(Set(seen.keys) == Set(everyLine), "every row in some shard")
        #expect(seen.values.allSatisfy { $0 == 1 }, "no row in two shards: \(seen.filter { $0.value != 1 })")
    }

    /// Against the sandbox: two shards together create every cashier exactly once.
    @Test func twoShardsSendEveryRowOnce() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try shardBatch(dir, count: 40)
        var done = 0
        for i in 0..<2 {
            let result = try await runCLI(runArgs(sandbox, dir, ["--db", dir.path("s\(i).sqlite"), "--report-dir", dir.path("r\(i)"),
                                                               "--shard", "\(i)/2", "--no-deposits", batch]),
                                          environment: ["REBILLY_API_KEY": sandbox.apiKey])
            #expect([0, 3].contains(result.status), "\(result.stderr)")
            #expect(result.stderr.contains("accounting=holds"), "each shard's row accounting closes: \(result.stderr)")
            done += try stagedRows(dir.path("s\(i).sqlite")).filter { $0.state == .done }.count
        }
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(done == 41)
        #expect(stats["cashiers"] == .number("41"))
        #expect(stats["requestsTotal"] == .number("41"))
    }

    /// Jobs/nightly.yaml documents every option of `run` by the same name (plus `files`), and nothing else.
    @Test func nightlyJobFileNamesEveryRunOption() async throws {
        let help = try await runCLI(["run", "--help"])
        let options = Set(help.stdout.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("--") else { return nil }
            return String(trimmed.dropFirst(2).prefix { $0.isLetter || $0 == "-" })
        })
        #expect(options.contains("shard") && options.contains("rate"))
        let text = try String(contentsOf: repoRoot.appendingPathComponent("Jobs/nightly.yaml"), encoding: .utf8)
        let keys = Set(text.split(separator: "\n").compactMap { line -> String? in
            guard let first = line.first, first.isLetter, let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[..<colon])
        })
        // --allow-repeat overrides a safety check on purpose, once: the command line only. --version
        // (every command's, from the root) prints the build and runs nothing.
        let settable = options.subtracting(["job", "print-config", "allow-repeat", "version"]).union(["files"])
        #expect(keys == settable, "missing: \(settable.subtracting(keys)), extra: \(keys.subtracting(settable))")
    }
}

/// A ledger stages each batch once, with one shard's rows: another shard (or no shard) on the
/// same ledger would resume the batch with the wrong rows and never send its own.
@Suite struct ShardLedgerTests {
    @Test func aLedgerRefusesAnotherShardBeforeReadingAnything() async throws {
        let dir = try TempDir()
        var text = "websiteId,customerId,currency,balance\n"
        for i in 0..<20 { text += "web_1,cus_s-\(i),USD,\(i).00\n" }
        let batch = try dir.write("b.csv", text)
        func run(_ extra: [String], db: String = "l.sqlite") async throws -> CLIResult {
            try await runCLI(["run", "--dry-run", "--db", dir.path(db), batch] + extra)
        }
        let first = try await run(["--shard", "0/2"])
        #expect(first.status == 0, "\(first.stderr)")
        let other = try await run(["--shard", "1/2"])
        #expect(other.status == 64)
        #expect(other.stderr.contains("this ledger holds shard 0/2 (run 1, run); shard 1/2 needs its own --db"), "\(other.stderr)")
        let unsharded = try await run([])
        #expect(unsharded.status == 64)
        #expect(unsharded.stderr.contains("every row (no --shard) needs its own --db"), "\(unsharded.stderr)")
        // The same shard again is fine, and so is the other shard on its own ledger.
        #expect(try await run(["--shard", "0/2"]).status == 0)
        #expect(try await run(["--shard", "1/2"], db: "l1.sqlite").status == 0)
        // `validate --db` stages every row: a shard may not use that ledger afterwards.
        #expect(try await runCLI(["validate", "--db", dir.path("v.sqlite"), batch]).status == 0)
        let afterValidate = try await run(["--shard", "0/2"], db: "v.sqlite")
        #expect(afterValidate.status == 64)
        #expect(afterValidate.stderr.contains("this ledger holds every row (no --shard) (run 1, validate)"), "\(afterValidate.stderr)")
    }
}
