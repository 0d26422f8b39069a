import AsyncHTTPClient
import Foundation
@testable import Sandbox

/// One HTTP exchange as the tests see it.
struct Exchange: Sendable {
    var status: Int
    var headers: [String: String]
    var text: String

    /// The body parsed with number literals kept as text.
    var json: JSONValue {
        get throws { try JSONParser.parse(text) }
    }

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// An in-process sandbox on an ephemeral port and an AsyncHTTPClient talking to it over a real socket.
struct Harness: Sendable {
    let sandbox: RunningSandbox
    let client: HTTPClient

    static let key = "test-key-123"

    /// Starts a sandbox, runs `body`, then stops both the client and the server.
    static func with<T: Sendable>(
        _ configure: (inout SandboxConfiguration) -> Void = { _ in },
        _ body: (Harness) async throws -> T
    ) async throws -> T {
        var config = SandboxConfiguration(apiKey: key)
        configure(&config)
        let sandbox = try await SandboxServer.start(config)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let harness = Harness(sandbox: sandbox, client: client)
        do {
            let result = try await body(harness)
            try await client.shutdown()
            await sandbox.stop()
            return result
        } catch {
            try? await client.shutdown()
            await sandbox.stop()
            throw error
        }
    }

    func request(_ method: String, _ path: String, body: String? = nil, apiKey: String? = Harness.key) async throws -> Exchange {
        var request = HTTPClientRequest(url: sandbox.baseURL + path)
        request.method = .init(rawValue: method)
        if let apiKey { request.headers.add(name: "REB-APIKEY", value: apiKey) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(Array(body.utf8))
        }
        let response = try await client.execute(request, timeout: .seconds(10))
        var bytes: [UInt8] = []
        for try await chunk in response.body { bytes += chunk.readableBytesView }
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return Exchange(status: Int(response.status.code), headers: headers, text: String(decoding: bytes, as: UTF8.self))
    }

    func post(_ path: String, _ body: String, apiKey: String? = Harness.key) async throws -> Exchange {
        try await request("POST", path, body: body, apiKey: apiKey)
    }

    func get(_ path: String, apiKey: String? = Harness.key) async throws -> Exchange {
        try await request("GET", path, apiKey: apiKey)
    }

    /// `POST /cashiers` with the usual three ids plus any extra members (raw JSON text).
    func postCashier(customer: String, website: String = "web_1", currency: String = "USD", extra: String = "", prefix: String = "") async throws -> Exchange {
        let more = extra.isEmpty ? "" : "," + extra
        return try await post(prefix + "/cashiers", #"{"customerId":"\#(customer)","websiteId":"\#(website)","currency":"\#(currency)"\#(more)}"#)
    }

    func postDeposit(customer: String, website: String = "web_1", currency: String = "USD", extra: String = "", prefix: String = "") async throws -> Exchange {
        let more = extra.isEmpty ? "" : "," + extra
        return try await post(prefix + "/deposit-requests", #"{"customerId":"\#(customer)","websiteId":"\#(website)","currency":"\#(currency)"\#(more)}"#)
    }

    func stats() async throws -> JSONValue { try await get("/_sandbox/stats").json }
}

extension JSONValue {
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var numberLiteral: String? { if case .number(let s) = self { s } else { nil } }
    var intValue: Int? { numberLiteral.flatMap { Int($0) } }
    var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    var keys: [String] { if case .object(let m) = self { m.map(\.0) } else { [] } }
    /// `invalidFields[].field`, in order.
    var invalidFieldNames: [String] { self["invalidFields"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? [] }
}

/// Crockford base32 ULID after a prefix, e.g. `cashier_01J...` (26 characters).
func isPrefixedULID(_ id: String?, prefix: String) -> Bool {
    guard let id, id.hasPrefix(prefix) else { return false }
    let ulid = id.dropFirst(prefix.count)
    let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    return ulid.count == 26 && ulid.allSatisfy(alphabet.contains) && ulid.first! <= "7"
}
