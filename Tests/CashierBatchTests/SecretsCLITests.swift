import Foundation
import Sandbox
import Testing

/// The API key must never reach a log line, the ledger or a report.
@Suite(.serialized) struct SecretsCLITests {
    @Test func theKeyAppearsNowhereAfterARunARetryAndAReport() async throws {
        let dir = try TempDir()
        let secret = "sk_live_TOPSECRET_7f3a9c1e5b"
        var config = SandboxConfiguration()
        config.apiKey = secret
        config.failRate = 0.1
        config.seed = 3
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 25)
        try dir.write("bad.csv", "websiteId,customerId,currency,balance\nweb_1,cus_bad,USD,1e3\n")
        let keyFile = try dir.write("key", secret + "\n")
        chmod(keyFile, 0o600)
        let reports = dir.path("reports")
        let env = ["REBILLY_API_KEY": secret]
        let run = try await runCLI(runArgs(sandbox, dir, [batch, dir.path("bad.csv"), "--log-format", "json"]), environment: env)
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--api-key-file", keyFile,
                                      "--report-dir", reports], environment: ["REBILLY_API_KEY": ""])
        let report = try await runCLI(["report", "--db", dir.path("ledger.sqlite"), "--out", dir.path("again")])
        await sandbox.stop()
        #expect(run.status == 3, "\(run.stderr)")
        #expect([0, 3, 4].contains(retry.status), "\(retry.stderr)")
        #expect(report.status == 0, "\(report.stderr)")

        var searched = 0
        for output in [run.stdout, run.stderr, retry.stdout, retry.stderr, report.stdout, report.stderr] {
            #expect(!output.contains(secret))
        }
        let files = FileManager.default.enumerator(atPath: dir.url.path)?.compactMap { $0 as? String } ?? []
        for name in files where name != "key" {
            let path = dir.url.appendingPathComponent(name).path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "the key leaked into \(name)")
            searched += 1
        }
        // The ledger (and its WAL), every report of both directories, the batches.
        #expect(searched >= 12, "searched only \(searched) files: \(files)")
        #expect(files.contains("ledger.sqlite") && files.contains("reports/report.html") && files.contains("again/report.json"))
    }
}
