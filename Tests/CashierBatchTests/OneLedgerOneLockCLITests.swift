import Foundation
import Sandbox
import Testing

/// A ledger is one file, whatever name reaches it: one lock, one journal, created 0600, and no
/// link planted beside it makes the job write through it.
@Suite(.serialized) struct OneLedgerOneLockCLITests {
    static func env(_ sandbox: RunningSandbox) -> [String: String] { ["REBILLY_API_KEY": sandbox.apiKey] }

    func runArgs(_ sandbox: RunningSandbox, db: String, reports: String, rate: String = "1000/s", _ files: [String]) -> [String] {
        ["run", "--api-url", sandbox.baseURL, "--db", db, "--rate", rate, "--in-doubt-settle", "1", "--report-dir", reports] + files
    }

    /// A run through `l.sqlite` is under way; a second through a symbolic link to it exits 75
    /// at once, and every row is sent once.
    @Test func aSecondNameByASymbolicLinkWaitsForTheLock() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 20)
        try FileManager.default.createSymbolicLink(atPath: dir.path("link.sqlite"), withDestinationPath: dir.path("l.sqlite"))
        let first = try startCLI(runArgs(sandbox, db: dir.path("l.sqlite"), reports: dir.path("r1"), rate: "8/s", [batch]),
                                 environment: Self.env(sandbox))
        for _ in 0..<500 where (try? rowState(dir.path("l.sqlite"))) == nil { try await Task.sleep(for: .milliseconds(20)) }
        let second = try await runCLI(runArgs(sandbox, db: dir.path("link.sqlite"), reports: dir.path("r2"), [batch]), environment: Self.env(sandbox))
        await waitForExit(first)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(second.status == 75, "\(second.stderr)")
        #expect(second.stderr.contains("another run holds the ledger lock \(dir.path("l.sqlite")).lock (pid \(first.processIdentifier))"), "\(second.stderr)")
        #expect(first.terminationStatus == 0)
        #expect(stats["cashiers"] == .number("20") && stats["depositRequests"] == .number("20"), "every row once: \(stats)")
        #expect(stats["duplicateDepositRequests"] == .number("0"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("link.sqlite.lock")), "one lock, beside the file itself")
    }

    /// A ledger with a second hard link is refused under either name before anything is sent:
    /// each name would lock and keep its journal apart.
    @Test func aLedgerWithTwoHardLinksIsRefused() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 3)
        let made = try await runCLI(runArgs(sandbox, db: dir.path("l.sqlite"), reports: dir.path("r"), [batch]), environment: Self.env(sandbox))
        #expect(made.status == 0, "\(made.stderr)")
        #expect(link(dir.path("l.sqlite"), dir.path("hard.sqlite")) == 0)
        let before = try await sandboxStats(sandbox)
        let other = try writeBatch(dir, name: "other.csv", count: 3, prefix: "cus_other_")
        for name in ["hard.sqlite", "l.sqlite"] {
            let refused = try await runCLI(runArgs(sandbox, db: dir.path(name), reports: dir.path("r"), [other]), environment: Self.env(sandbox))
            #expect(refused.status == 74, "\(name): \(refused.stderr)")
            #expect(refused.stderr.contains("the ledger \(dir.path(name)) has 2 hard links; nothing was written to it"), "\(refused.stderr)")
        }
        let after = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(after["requestsTotal"] == before["requestsTotal"], "nothing sent")
    }

    /// A symbolic link planted at `<db>.lock` is not written through: the run stops with 74 and
    /// the file it points at keeps its bytes.
    @Test func aLinkPlantedAtTheLockIsNotWrittenThrough() async throws {
        let dir = try TempDir()
        let victim = try dir.write("victim.txt", "precious\n")
        try FileManager.default.createSymbolicLink(atPath: dir.path("l.sqlite.lock"), withDestinationPath: victim)
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 2)
        let run = try await runCLI(runArgs(sandbox, db: dir.path("l.sqlite"), reports: dir.path("r"), [batch]), environment: Self.env(sandbox))
        let stats = try await sandboxStats(sandbox)
        // A hard link planted there instead: the same.
        try FileManager.default.removeItem(atPath: dir.path("l.sqlite.lock"))
        #expect(link(victim, dir.path("l.sqlite.lock")) == 0)
        let hard = try await runCLI(runArgs(sandbox, db: dir.path("l.sqlite"), reports: dir.path("r"), [batch]), environment: Self.env(sandbox))
        await sandbox.stop()
        #expect(run.status == 74, "\(run.stderr)")
        #expect(run.stderr.contains("the run lock \(dir.path("l.sqlite")).lock is not a plain file of its own (a symbolic link)"), "\(run.stderr)")
        #expect(hard.status == 74 && hard.stderr.contains("is not a plain file of its own (2 names)"), "\(hard.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(stats["requestsTotal"] == .number("0"))
    }

    /// `--db` a dangling symbolic link: the ledger is made where it points, 0600, and a second
    /// command through the real name finds the same ledger.
    @Test func aLedgerMadeThroughADanglingLinkIsOwnerOnly() async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.path("data"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.path("night.sqlite"), withDestinationPath: "data/real.sqlite")
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 2)
        let run = try await runCLI(runArgs(sandbox, db: dir.path("night.sqlite"), reports: dir.path("r"), [batch]), environment: Self.env(sandbox))
        await sandbox.stop()
        #expect(run.status == 0, "\(run.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: dir.path("data/real.sqlite"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(FileManager.default.fileExists(atPath: dir.path("data/real.sqlite.lock")))
        let runs = try await runCLI(["runs", "--db", dir.path("data/real.sqlite")])
        #expect(runs.status == 0 && runs.stdout.contains("done=2"), "\(runs.stdout) \(runs.stderr)")
    }
}
