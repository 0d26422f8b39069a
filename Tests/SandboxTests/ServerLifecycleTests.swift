import AsyncHTTPClient
import Foundation
import Testing
@testable import Sandbox

@Suite("Starting and stopping in-process")
struct ServerLifecycleTests {
    @Test("stop() returns promptly even while a client keeps an idle keep-alive connection")
    func stopWithIdleConnection() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/health")
        request.method = .init(rawValue: "GET")
        let response = try await client.execute(request, timeout: .seconds(5))
        #expect(response.status.code == 200)
        for try await _ in response.body {}
        let started = ContinuousClock.now
        await sandbox.stop()
        // Not a timing test: without the fix stop() waits on the idle connection forever.
        #expect(ContinuousClock.now - started < .seconds(15))
        await sandbox.stop()  // a second stop is harmless
        try await client.shutdown()
    }

    @Test("a port already in use makes start() throw")
    func portInUse() async throws {
        let first = try await SandboxServer.start(SandboxConfiguration())
        var config = SandboxConfiguration()
        config.port = first.port
        await #expect(throws: (any Error).self) { _ = try await SandboxServer.start(config) }
        await first.stop()
    }

    @Test("an invalid configuration is refused before binding")
    func invalidConfiguration() async {
        await #expect(throws: SandboxServer.StartError.self) {
            _ = try await SandboxServer.start(SandboxConfiguration(failRate: 2))
        }
    }
}
