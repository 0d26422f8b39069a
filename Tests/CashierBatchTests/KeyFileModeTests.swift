import CashierModel
import Foundation
import Sandbox
import Testing

/// `--api-key-file` as a kubelet projects a Secret (`defaultMode: 0400` + `fsGroup`): owner
/// root, group the pod's fsGroup, mode 0440 (kubernetes/kubernetes#57923). `run` must start
/// with it; a key others can read, or one readable by a group the job is not in, is refused.
@Suite(.serialized) struct KeyFileModeTests {
    /// The pod's user (runAsUser) and fsGroup of Jobs/k8s-cronjob.yaml.
    static let podUID: uid_t = 10001
    static let fsGroup: gid_t = 10001

    /// Runs the binary as `uid` with effective group `gid` and supplementary `groups` (setpriv,
    /// when the tests run as root; otherwise as the current user).
    func runAs(uid: uid_t, gid: gid_t, groups: [gid_t], _ arguments: [String], environment: [String: String]) async throws -> CLIResult {
        guard geteuid() == 0 else { return try await runCLI(arguments, environment: environment) }
        let groupsArgument = groups.isEmpty ? "--clear-groups" : "--groups=" + groups.map(String.init).joined(separator: ",")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=\(uid)", "--regid=\(gid)", groupsArgument, "--", try cliBinary().path] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let out = Pipe(), err = Pipe()
                    process.standardOutput = out
                    process.standardError = err
                    try process.run()
                    nonisolated(unsafe) var errData = Data()
                    let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
                    reader.start()
                    let outData = out.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    while !reader.isFinished { usleep(1000) }
                    continuation.resume(returning: CLIResult(status: process.terminationStatus,
                                                             stdout: String(decoding: outData, as: UTF8.self),
                                                             stderr: String(decoding: errData, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    /// A key file as the kubelet leaves it: 0440, group `group`, owner root when the tests can
    /// chown (root), else the current user.
    func kubeletKey(_ dir: TempDir, _ secret: String, group: gid_t) throws -> String {
        let path = try dir.write("api-key", secret + "\n")
        if geteuid() == 0 { #expect(chown(path, 0, group) == 0) }
        #expect(chmod(path, 0o440) == 0)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o440)
        #expect(info.st_uid == (geteuid() == 0 ? 0 : geteuid()))
        #expect(info.st_gid == (geteuid() == 0 ? group : getegid()))
        return path
    }

    /// The ledger directory, writable by the pod's user (fsGroup makes the volume so).
    func podDirectory(_ dir: TempDir) throws -> String {
        let path = dir.path("ledger")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if geteuid() == 0 {
            #expect(chown(dir.url.path, 0, Self.fsGroup) == 0 && chmod(dir.url.path, 0o750) == 0)
            #expect(chown(path, Self.podUID, Self.fsGroup) == 0)
        }
        return path
    }

    func args(_ sandbox: RunningSandbox, ledger: String, key: String, batch: String) -> [String] {
        ["run", "--api-url", sandbox.baseURL, "--db", ledger + "/ledger.sqlite", "--rate", "1000/s", "--in-doubt-settle", "1",
         "--report-dir", ledger + "/reports", "--api-key-file", key, batch]
    }

    @Test func runStartsWithTheKubeletsKeyFileAsThePodsGroup() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 12)
        let ledger = try podDirectory(dir)
        let gid = geteuid() == 0 ? Self.fsGroup : getegid()
        let key = try kubeletKey(dir, sandbox.apiKey, group: gid)
        // runAsUser 10001, runAsGroup 10001, fsGroup 10001: the file's group is the process's own.
        let result = try await runAs(uid: Self.podUID, gid: Self.fsGroup, groups: [Self.fsGroup],
                                     args(sandbox, ledger: ledger, key: key, batch: batch), environment: ["REBILLY_API_KEY": ""])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("API key file"), "\(result.stderr)")
        #expect(stats["cashiers"] == .number("12"), "\(stats)")
        #expect(stats["depositRequests"] == .number("12"), "\(stats)")
    }

    @Test func runStartsWhenTheFSGroupIsASupplementaryGroup() async throws {
        guard geteuid() == 0 else { return }  // only root can give a process a group it is not in
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 5)
        let ledger = try podDirectory(dir)
        let key = try kubeletKey(dir, sandbox.apiKey, group: 2000)
        #expect(chown(dir.url.path, 0, 2000) == 0 && chmod(dir.url.path, 0o750) == 0)
        // runAsGroup 3000 with fsGroup 2000: the kubelet adds 2000 to the pod's groups.
        #expect(chown(ledger, Self.podUID, 3000) == 0)
        let result = try await runAs(uid: Self.podUID, gid: 3000, groups: [3000, 2000],
                                     args(sandbox, ledger: ledger, key: key, batch: batch), environment: ["REBILLY_API_KEY": ""])
        await sandbox.stop()
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func aKeyReadableByAGroupTheJobIsNotInIsRefused() async throws {
        guard geteuid() == 0 else { return }
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 3)
        let ledger = try podDirectory(dir)
        let key = try kubeletKey(dir, sandbox.apiKey, group: 2000)
        #expect(chmod(dir.url.path, 0o755) == 0)
        let result = try await runAs(uid: Self.podUID, gid: Self.fsGroup, groups: [Self.fsGroup],
                                     args(sandbox, ledger: ledger, key: key, batch: batch), environment: ["REBILLY_API_KEY": ""])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("API key file \(key) is refused: its group (gid 2000) can read it but this process is not in that group (mode 440); a key file must be owned by root or by this user (uid 10001), writable by nobody but its owner, and readable by nobody but its owner and, at most, one of this process's groups (0600, 0400, or 0440 with such a group, as a kubelet projects a Secret with fsGroup): chmod 600 it, or run the job with that group (Kubernetes: fsGroup)"), "\(result.stderr)")
        #expect(stats["requestsTotal"] == .number("0"), "nothing may be sent without a key: \(stats)")
    }

    @Test func aWorldReadableKeyIsRefusedAndNothingIsSent() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 3)
        let key = try dir.write("api-key", sandbox.apiKey + "\n")
        #expect(chmod(key, 0o444) == 0)
        let result = try await runCLI(runArgs(sandbox, dir, ["--api-key-file", key, batch]), environment: ["REBILLY_API_KEY": ""])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(stats["requestsTotal"] == .number("0"), "\(stats)")
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("API key file \(key) is refused: others have access to it (mode 444); a key file must be owned by root or by this user (uid \(geteuid())),"), "\(result.stderr)")
        #expect(!result.stderr.contains(sandbox.apiKey))
    }
}
