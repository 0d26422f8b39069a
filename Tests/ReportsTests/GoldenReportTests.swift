import Foundation
import Ledger
import Testing
@testable import Reports

/// `report.json` of a fixed ledger, byte for byte: a demo night (four batches, rejects, breaks,
/// opening cashiers) written by `cashier-batch demo`, reported with a fixed generation time.
@Suite struct GoldenReportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let generatedAt = Date(timeIntervalSince1970: 1_796_385_600)  // 2026-12-04T12:00:00Z

    /// The report of the fixture's run 1, from a copy (opening a ledger migrates it in place).
    func report(_ fixture: String) throws -> String {
        let dir = try TempDir()
        let path = dir.path("ledger.sqlite")
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent(fixture).path, toPath: path)
        let ledger = try Ledger(path: path, access: .read)
        return ReportJSON.render(try ReportBuilder(ledger: ledger, now: { Self.generatedAt }).build(runID: 1))
    }

    func golden(_ name: String) throws -> String {
        try String(contentsOf: Self.fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    /// A night run before the ledger recorded whole reconciliations (schema v7) reports what
    /// `run` wrote that night: the golden file is that `report.json`, only its generation time set.
    @Test func aV7NightReportsWhatItsRunWrote() throws {
        #expect(try report("demo-night-v7.sqlite") == golden("demo-night-v7.report.json"))
    }

    /// A night recorded with its reconciliation (schema v9) reports from that record what `run`
    /// wrote that night: the golden file is that `report.json`, only its generation time set.
    @Test func aRecordedNightReportsWhatItsRunWrote() throws {
        #expect(try report("demo-night-v9.sqlite") == golden("demo-night-v9.report.json"))
    }
}
