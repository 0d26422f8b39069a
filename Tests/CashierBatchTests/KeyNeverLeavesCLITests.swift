import Foundation
import Sandbox
import Testing

/// Issue 26, "the key never leaves": a server that echoes the API key it is sent (a proxy, an
/// error page, a login redirect) gets it into nothing the job leaves behind: not the ledger nor
/// its WAL, not a report, not stdout or stderr. Each mode exits as the README's table says.
@Suite(.serialized) struct KeyNeverLeavesCLITests {
    /// Long, distinctive, and with the characters encodings change (`/`, `+`, `=`).
    static let key = "cbkey_Kn0wLeak7Q/9fQzR7vWx+Tp4Xw2mYb8Hc="
    static let marker = "[REDACTED]"

    func sandbox(_ mode: EchoKeyMode?) async throws -> RunningSandbox {
        var config = SandboxConfiguration(apiKey: Self.key)
        config.echoKey = mode
        return try await SandboxServer.start(config)
    }

    /// The traces of the key in `text`: the key, percent-encoded, or any run of 8 or more of its
    /// letters and digits (every spelling or cut of it keeps those), case folded.
    static func traces(_ text: String) -> [String] {
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        let runs = key.split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) }).map(String.init).filter { $0.count >= 8 }
        let lowered = text.lowercased()
        return ([key, encoded] + runs).filter { lowered.contains($0.lowercased()) }
    }

    /// Greps every file under `dir` (the ledger, its -wal and -shm, the lock, every report) as
    /// bytes, and each command's stdout and stderr, for the key. Returns what was read, for the
    /// caller to check the echo did reach it (as the marker).
    @discardableResult
    func expectNoKey(_ dir: TempDir, _ results: [CLIResult], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: String] {
        var texts: [String: String] = [:]
        let files = FileManager.default.enumerator(at: dir.url, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = files?.nextObject() as? URL {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            texts[url.path.replacingOccurrences(of: dir.url.path + "/", with: "")] = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        }
        for (i, result) in results.enumerated() {
            texts["command \(i) stdout"] = result.stdout
            texts["command \(i) stderr"] = result.stderr
        }
        #expect(texts["ledger.sqlite"] != nil, "the ledger was read", sourceLocation: sourceLocation)
        for (name, text) in texts.sorted(by: { $0.key < $1.key }) {
            #expect(Self.traces(text).isEmpty, "\(name) holds the key: \(Self.traces(text))", sourceLocation: sourceLocation)
        }
        // The ledger's pages, wherever SQLite left them.
        texts["ledger"] = texts["ledger.sqlite", default: ""] + texts["ledger.sqlite-wal", default: ""]
        return texts
    }

    @Test func a422ThatEchoesTheKeyRejectsRowsAndTheKeyStaysOut() async throws {
        let dir = try TempDir()
        let echoing = try await sandbox(.invalidFields)
        let batch = try writeBatch(dir, count: 6)
        let env = ["REBILLY_API_KEY": Self.key]
        let run = try await runCLI(runArgs(echoing, dir, [batch]), environment: env)
        let reconcile = try await runCLI(["reconcile", "--api-url", echoing.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                          "--report-dir", dir.path("reconciled")], environment: env)
        await echoing.stop()
        // The read-backs meet an error page that quotes the key.
        let errorPage = try await sandbox(.errorPage)
        let unread = try await runCLI(["reconcile", "--api-url", errorPage.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                       "--max-attempts", "2", "--report-dir", dir.path("unread")], environment: env)
        await errorPage.stop()
        let report = try await runCLI(["report", "--db", dir.path("ledger.sqlite"), "--run", "1", "--out", dir.path("again")])

        #expect(run.status == 3, "rows rejected: \(run.stderr)")
        #expect(reconcile.status == 0, "\(reconcile.stderr)")
        #expect(unread.status == 69, "cashiers not read back: \(unread.stderr)")
        #expect(report.status == 0, "\(report.stderr)")
        let texts = try expectNoKey(dir, [run, reconcile, unread, report])
        // The echo reached every place it could, scrubbed (summary.md escapes the marker's brackets).
        for name in ["ledger", "reports/rejects.csv", "reports/report.json", "reports/report.html", "reports/summary.md", "again/rejects.csv"] {
            #expect(texts[name]?.contains("REDACTED") == true, "\(name)")
        }
        #expect(texts["reports/rejects.csv"]?.contains("was refused for REB-APIKEY=\(Self.marker)") == true)
        #expect(unread.stderr.contains(Self.marker), "\(unread.stderr)")
    }

    @Test func a401ThatEchoesTheKeyFileStopsTheRunAndTheKeyStaysOut() async throws {
        let dir = try TempDir()
        let secrets = try TempDir()  // apart: the key file itself holds the key
        let keyFile = try secrets.write("api-key", Self.key + "\n")
        #expect(chmod(keyFile, 0o600) == 0)
        let echoing = try await sandbox(.unauthorized)
        let batch = try writeBatch(dir, count: 5)
        let run = try await runCLI(runArgs(echoing, dir, [batch, "--api-key-file", keyFile]))
        await echoing.stop()
        #expect(run.status == 77, "credentials refused: \(run.stderr)")
        #expect(run.stderr.contains("credentials refused by the API (HTTP 401 Unauthorized: Invalid credentials: \(Self.marker))"), "\(run.stderr)")
        let texts = try expectNoKey(dir, [run])
        #expect(texts["ledger"]?.contains(Self.marker) == true)
    }

    @Test func aRedirectToALoginPageWithTheKeyStopsTheNightAndTheKeyStaysOut() async throws {
        let dir = try TempDir()
        let echoing = try await sandbox(.redirect)
        let batch = try writeBatch(dir, count: 24)
        let run = try await runCLI(runArgs(echoing, dir, [batch]), environment: ["REBILLY_API_KEY": Self.key])
        await echoing.stop()
        #expect(run.status == 69, "not Rebilly answering: \(run.stderr)")
        #expect(run.stderr.contains("HTTP 302 redirect on /cashiers to https://login.example/?key=\(Self.marker): check --api-url"), "\(run.stderr)")
        let texts = try expectNoKey(dir, [run])
        #expect(texts["ledger"]?.contains(Self.marker) == true)
    }

    @Test func anErrorPageThatQuotesTheKeyStopsTheNightAndTheKeyStaysOut() async throws {
        let dir = try TempDir()
        let echoing = try await sandbox(.errorPage)
        let batch = try writeBatch(dir, count: 3)
        let run = try await runCLI(runArgs(echoing, dir, [batch, "--max-attempts", "2"]), environment: ["REBILLY_API_KEY": Self.key])
        await echoing.stop()
        let report = try await runCLI(["report", "--db", dir.path("ledger.sqlite"), "--out", dir.path("again")])
        #expect(run.status == 69, "API unavailable after retries: \(run.stderr)")
        #expect(report.status == 0, "\(report.stderr)")
        let texts = try expectNoKey(dir, [run, report])
        #expect(texts["ledger"]?.contains("The upstream refused REB-APIKEY \(Self.marker).") == true)
    }
}
