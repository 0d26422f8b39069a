// The ceiling of the sending design on this machine: async-http-client alone, sending the
// same two requests per customer as `cashier-batch run` (POST /cashiers, then
// POST /deposit-requests, the same bodies), `CONCURRENCY` customers in flight, and nothing
// else — no ledger, no limiter, no validation. `Benchmarks/send-bench.sh` runs it against the
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

@Sendable func post(_ path: String, _ body: String) async throws -> Int {
    var request = HTTPClientRequest(url: base + path)
    request.method = .POST
    request.headers.add(name: "REB-APIKEY", value: key)
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await client.execute(request, deadline: .now() + .seconds(60))
    _ = try await response.body.collect(upTo: 1 << 20)
    return Int(response.status.code)
}

@Sendable func customer(_ i: Int) async throws {
    let id = String(format: "ceil_%08d", i)
    let website = "web_01J8ZK4Q7M2XR5T9VB3C6NDWEH"
    let cashier = #"{"websiteId":"\#(website)","customerId":"\#(id)","currency":"USD","balance":\#(i % 100000).\#(String(format: "%02d", i % 100)),"bonusBalance":0,"pendingPayoutTotal":\#(i % 50).00}"#
    let deposit = #"{"websiteId":"\#(website)","customerId":"\#(id)","currency":"USD","amounts":[20.00,50.00,100.00]}"#
    guard try await post("/cashiers", cashier) < 300, try await post("/deposit-requests", deposit) < 300 else {
        throw CancellationError()
    }
}

let started = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    var next = 0
    while next < min(concurrency, rows) { let i = next; group.addTask { try await customer(i) }; next += 1 }
    while try await group.next() != nil {
        if next < rows { let i = next; group.addTask { try await customer(i) }; next += 1 }
    }
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
/// The async shutdown (top-level code would pick the future-returning overload).
func shutDown(_ client: HTTPClient) async throws { try await client.shutdown() }
try await shutDown(client)
print(String(format: "%.0f", Double(rows * 2) / seconds))
