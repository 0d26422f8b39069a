// The ceiling of the sending design on this machine: async-http-client alone, sending the
// same two requests per customer as `cashier-batch run` on today's API (POST /cashiers with
// the customer's keys only, its figures being Rebilly's; then POST /deposit-requests with an
// expirationTime), `CONCURRENCY` customers in flight, and nothing else — no ledger, no
// limiter, no validation. A request the sandbox refuses ends it with its status and body. `Benchmarks/send-bench.sh` runs it against the
// same sandbox as the job, so job ÷ this is what the job's own bookkeeping costs.
//
// usage: http-ceiling BASE_URL API_KEY ROWS [CONCURRENCY]   (prints requests/s)
import AsyncHTTPClient
import Foundation
import NIOCore

let arguments = CommandLine.arguments
guard arguments.count >= 4, let rows = Int(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: http-ceiling BASE_URL API_KEY ROWS [CONCURRENCY]\n".utf8))
    exit(64)
}
let base = arguments[1], key = arguments[2]
let concurrency = arguments.count > 4 ? Int(arguments[4]) ?? 64 : 64

var configuration = HTTPClient.Configuration()
configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)

/// A refused request: its path, status and the start of the sandbox's answer.
struct Refused: Error, CustomStringConvertible {
    let path: String, status: Int, body: String
    var description: String { "POST \(path) answered \(status): \(body)" }
}

@Sendable func post(_ path: String, _ body: String) async throws {
    var request = HTTPClientRequest(url: base + path)
    request.method = .POST
    request.headers.add(name: "REB-APIKEY", value: key)
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await client.execute(request, deadline: .now() + .seconds(60))
    let answer = try await response.body.collect(upTo: 1 << 20)
    guard response.status.code < 300 else {
        throw Refused(path: path, status: Int(response.status.code), body: String(buffer: answer).prefix(300).description)
    }
}

/// An hour from now, RFC 3339 in UTC: the deposit request's expirationTime, as the job sets one.
let expiration: String = {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: Date().addingTimeInterval(3600))
}()

@Sendable func customer(_ i: Int) async throws {
    let id = String(format: "ceil_%08d", i)
    let website = "web_01J8ZK4Q7M2XR5T9VB3C6NDWEH"
    try await post("/cashiers", #"{"websiteId":"\#(website)","customerId":"\#(id)","currency":"USD"}"#)
    try await post("/deposit-requests",
                   #"{"websiteId":"\#(website)","customerId":"\#(id)","currency":"USD","amounts":[20.00,50.00,100.00],"expirationTime":"\#(expiration)"}"#)
}

let started = ContinuousClock.now
do {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        while next < min(concurrency, rows) { let i = next; group.addTask { try await customer(i) }; next += 1 }
        while try await group.next() != nil {
            if next < rows { let i = next; group.addTask { try await customer(i) }; next += 1 }
        }
    }
} catch {
    FileHandle.standardError.write(Data("http-ceiling: \(error)\n".utf8))
    exit(1)
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
/// The async shutdown (top-level code would pick the future-returning overload).
func shutDown(_ client: HTTPClient) async throws { try await client.shutdown() }
try await shutDown(client)
print(String(format: "%.0f", Double(rows * 2) / seconds))
