import Foundation
import RebillyClient
import Sandbox

/// Starts a sandbox, builds a client for it, runs `body`, then shuts both down.
func withSandbox<T>(
    _ configure: (inout SandboxConfiguration) -> Void = { _ in },
    organizationId: String? = nil,
    apiKey: String? = nil,
    _ body: (RebillyClient, RunningSandbox) async throws -> T
) async throws -> T {
    var config = SandboxConfiguration()
    configure(&config)
    let sandbox = try await SandboxServer.start(config)
    let client = RebillyClient(configuration: try RebillyConfiguration(
        baseURL: sandbox.baseURL, organizationId: organizationId,
        apiKey: try APIKey(apiKey ?? sandbox.apiKey),
        connectTimeout: .seconds(2), readTimeout: .seconds(5), requestDeadline: .seconds(10), maxConnections: 4
    ))
    do {
        let value = try await body(client, sandbox)
        try await client.shutdown()
        await sandbox.stop()
        return value
    } catch {
        try? await client.shutdown()
        await sandbox.stop()
        throw error
    }
}

/// Preloaded cashiers (JSON Lines as `PreloadedCashier.load` reads them), each created yesterday:
/// a create sets no figures, so Rebilly's figures in an answer are those it already holds.
func established(_ jsonLines: String) throws -> [PreloadedCashier] {
    let yesterday = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86_400))
    let lines = jsonLines.split(separator: "\n").map { (line: Substring) -> String in
        line.hasSuffix("}") ? String(line.dropLast()) + #","createdTime":"\#(yesterday)"}"# : String(line)
    }
    return try PreloadedCashier.load(jsonLines: lines.joined(separator: "\n"))
}

/// Runs `body` and returns the `RebillyError` it throws (nil if it did not throw one).
func rebillyError<T>(_ body: () async throws -> T) async -> RebillyError? {
    do {
        _ = try await body()
        return nil
    } catch let error as RebillyError {
        return error
    } catch {
        return nil
    }
}

func cashierBody(customer: String, website: String = "web_1", currency: String = "USD", extra: String = "") -> String {
    #"{"websiteId":"\#(website)","customerId":"\#(customer)","currency":"\#(currency)"\#(extra.isEmpty ? "" : "," + extra)}"#
}

func depositBody(customer: String, website: String = "web_1", currency: String = "USD", extra: String = "") -> String {
    cashierBody(customer: customer, website: website, currency: currency, extra: extra)
}
