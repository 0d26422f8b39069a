import Foundation
import Testing

@Suite struct JobFileCLITests {
    func config(_ output: String, _ key: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix("\(key): ") }.map { String($0.dropFirst(key.count + 2)) }
    }

    @Test func precedenceIsFlagsThenEnvironmentThenJobFileThenDefaults() async throws {
        let dir = try TempDir()
        let job = try dir.write("job.yaml", """
            # a nightly job
            files:
              - \(dir.path("in"))/*.csv
            rate: 10/s          # the file's rate
            concurrency: 3
            db: \(dir.path("ledger.sqlite"))
            organization-id: null
            """)
        let secret = "sk_print_config_secret_42"
        let fileOnly = try await runCLI(["run", "--job", job, "--print-config"], environment: ["REBILLY_API_KEY": secret])
        #expect(fileOnly.status == 0, "\(fileOnly.stderr)")
        #expect(config(fileOnly.stdout, "rate") == "10/s")
        #expect(config(fileOnly.stdout, "concurrency") == "3")
        #expect(config(fileOnly.stdout, "max-attempts") == "6")  // default
        #expect(config(fileOnly.stdout, "organization-id") == "null")
        #expect(!fileOnly.stdout.contains(secret) && fileOnly.stdout.contains("# api key: <redacted> (from REBILLY_API_KEY)"))

        let withEnvironment = try await runCLI(["run", "--job", job, "--print-config"], environment: ["CASHIER_BATCH_RATE": "20/s"])
        #expect(config(withEnvironment.stdout, "rate") == "20/s")
        #expect(config(withEnvironment.stdout, "concurrency") == "3")

        let withFlag = try await runCLI(["run", "--job", job, "--print-config", "--rate", "30/s"], environment: ["CASHIER_BATCH_RATE": "20/s"])
        #expect(config(withFlag.stdout, "rate") == "30/s")
    }

    @Test func unknownKeysAreAnErrorNamingKeyAndLine() async throws {
        let dir = try TempDir()
        let job = try dir.write("job.yaml", "rate: 10/s\nconcurency: 4\n")
        let result = try await runCLI(["run", "--job", job])
        #expect(result.status == 64)
        #expect(result.stderr.contains("\(job):2: unknown key \"concurency\""))
    }

    @Test func theJobFilesGlobsAreTheInputs() async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.path("in"), withIntermediateDirectories: true)
        _ = try writeBatch(dir, name: "in/b.csv", count: 2, prefix: "b_")
        _ = try writeBatch(dir, name: "in/a.csv", count: 3, prefix: "a_")
        let job = try dir.write("job.yaml", """
            files:
              - \(dir.path("in"))/*.csv
            db: \(dir.path("ledger.sqlite"))
            report-dir: \(dir.path("reports"))
            dry-run: true
            """)
        let result = try await runCLI(["run", "--job", job])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("file=\(dir.path("in"))/a.csv"))
        #expect(result.stderr.contains("dry run: would send batch=1 rows=3"))
        #expect(result.stderr.contains("dry run: would send batch=2 rows=2"))

        let missing = try dir.write("missing.yaml", "files:\n  - \(dir.path("nowhere"))/*.csv\n")
        let none = try await runCLI(["run", "--job", missing])
        #expect(none.status == 64)
        #expect(none.stderr.contains("no file matches \(dir.path("nowhere"))/*.csv"))
    }
}

/// Each command takes only the options it uses; the environment gives it only those.
@Suite struct CommandOptionsCLITests {
    @Test func reconcileRefusesTheSendingOnlyOptions() async throws {
        for option in [["--dry-run"], ["--no-deposits"], ["--in-doubt-settle", "5"]] {
            let result = try await runCLI(["reconcile", "--db", "/nonexistent.sqlite"] + option)
            #expect(result.status == 64, "\(option): \(result.stderr)")
            #expect(result.stderr.contains("Unknown option '\(option[0])'"), "\(result.stderr)")
        }
    }

    @Test func reconcileIgnoresSendingOnlyVariablesOfTheEnvironment() async throws {
        let dir = try TempDir()
        let result = try await runCLI(["reconcile", "--db", dir.path("none.sqlite")],
                                      environment: ["CASHIER_BATCH_DRY_RUN": "true", "CASHIER_BATCH_IN_DOUBT_SETTLE": "5"])
        #expect(result.status == 66, "no ledger, not a usage error: \(result.stderr)")
    }
}
