import Foundation
import Ledger
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
}
