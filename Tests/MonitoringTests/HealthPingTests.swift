import AsyncHTTPClient
import Foundation
import Monitoring
import NIOCore
import Sandbox
import Testing

/// The pings as the sandbox's recorder received them, over a real socket.
private struct ReceivedPing: Equatable {
    var path: String
    var method: String
    var body: String
}

private func receivedPings(_ sandbox: RunningSandbox) async throws -> [ReceivedPing] {
    var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/pings")
    request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    let object = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]
    let list = object?["pings"] as? [[String: Any]] ?? []
    return list.map { ReceivedPing(path: $0["path"] as? String ?? "", method: $0["method"] as? String ?? "", body: $0["body"] as? String ?? "") }
}

private func withSandbox<T: Sendable>(_ body: (RunningSandbox) async throws -> T) async throws -> T {
    let sandbox = try await SandboxServer.start(SandboxConfiguration())
    do {
        let result = try await body(sandbox)
        await sandbox.stop()
        return result
    } catch {
        await sandbox.stop()
        throw error
    }
}

@Suite("Health pings (Healthchecks convention, to the sandbox's recorder on loopback)")
struct HealthPingTests {
    @Test("start, then the URL itself on exit 0, with the run's summary as the body")
    func startAndSuccess() async throws {
        try await withSandbox { sandbox in
            let ping = try HealthPing(url: sandbox.baseURL + "/_sandbox/ping/nightly/")
            #expect(await ping.start(body: "cashier-batch run started") == .delivered(status: 200))
            #expect(await ping.finish(exitCode: 0, body: "run 7: done 41") == .delivered(status: 200))
            #expect(try await receivedPings(sandbox) == [
                ReceivedPing(path: "nightly/start", method: "POST", body: "cashier-batch run started"),
                ReceivedPing(path: "nightly", method: "POST", body: "exit 0\nrun 7: done 41"),
            ])
        }
    }

    @Test("a non-zero exit goes to /fail with the exit code first", arguments: [Int32(3), 4, 69, 77, 143])
    func failure(code: Int32) async throws {
        try await withSandbox { sandbox in
            let ping = try HealthPing(url: sandbox.baseURL + "/_sandbox/ping/0b5e1c2a-uuid")
            #expect(await ping.finish(exitCode: code, body: "summary") == .delivered(status: 200))
            #expect(try await receivedPings(sandbox) == [ReceivedPing(path: "0b5e1c2a-uuid/fail", method: "POST", body: "exit \(code)\nsummary")])
        }
    }

    @Test("an unreachable monitor is reported as failed after every attempt, without throwing")
    func unreachable() async throws {
        // Bind an ephemeral port, then close it: connecting there is refused at once.
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let url = sandbox.baseURL + "/_sandbox/ping/x"
        await sandbox.stop()
        let ping = try HealthPing(url: url, attempts: 3, timeout: .seconds(2), retryDelay: .milliseconds(50))
        let started = ContinuousClock.now
        let outcome = await ping.start()
        guard case .failed = outcome else { Issue.record("expected failure, got \(outcome)"); return }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("a 4xx answer (here 401) is not retried and is reported with its status")
    func clientErrorNotRetried() async throws {
        try await withSandbox { sandbox in
            // /_sandbox/nothing/start is no ping path: the sandbox refuses it (401 without a key).
            let ping = try HealthPing(url: sandbox.baseURL + "/_sandbox/nothing", attempts: 3, retryDelay: .seconds(5))
            let started = ContinuousClock.now
            #expect(await ping.start() == .failed("HTTP 401"))
            #expect(ContinuousClock.now - started < .seconds(5), "a 404 must not wait for a retry")
        }
    }

    @Test("only absolute http(s) URLs without query are accepted; logs get scheme and host only")
    func urlRules() throws {
        for bad in ["ftp://hc.example/abc", "hc-ping.com/abc", "https://hc.example/abc?x=1", "", "https:///abc"] {
            #expect(throws: HealthPing.InvalidURL.self, "\(bad)") { try HealthPing(url: bad) }
        }
        let ping = try HealthPing(url: "https://hc-ping.com/5f1c-secret-uuid/")
        #expect(ping.url == "https://hc-ping.com/5f1c-secret-uuid")
        #expect(ping.redacted == "https://hc-ping.com/…")
        #expect(try HealthPing(url: "http://127.0.0.1:8000/ping/abc").redacted == "http://127.0.0.1:8000/…")
    }
}
