/// Counters for `GET /_sandbox/stats`: requests per operation and outcome, 429s served and
/// faults injected by kind.
final class SandboxStats: Sendable {
    private struct Counters {
        var requests: [String: [String: Int]] = [:]
        var total = 0
        var rateLimited = 0
        var failed = 0
        var dropped = 0
        var delayed = 0
        /// Writes (non-GET) and reads (GET) by the client's User-Agent.
        var byClient: [String: (writes: Int, reads: Int)] = [:]
    }

    private let counters = Locked(Counters())

    /// Records one API request. `outcome` is the status code, or `dropped:<status>` when the
    /// answer was never sent.
    /// `method` and `client` (the User-Agent) count the request as a write or a read of that
    /// client, as Rebilly's limit counts it (non-GET requests only).
    func record(operation: String, outcome: String, plan: FaultInjector.Plan, method: String = "GET", client: String = "") {
        counters.withLock { c in
            c.requests[operation, default: [:]][outcome, default: 0] += 1
            if method == "GET" { c.byClient[client, default: (0, 0)].reads += 1 } else { c.byClient[client, default: (0, 0)].writes += 1 }
            c.total += 1
            if outcome == "429" { c.rateLimited += 1 }
            if plan.drop { c.dropped += 1 }
            if plan.delay != nil { c.delayed += 1 }
        }
    }

    func recordInjectedFailure() {
        counters.withLock { $0.failed += 1 }
    }

    /// The counters as JSON members, keys sorted for stable output.
    func json() -> [(String, JSONValue)] {
        counters.withLock { c in
            let requests = c.requests.keys.sorted().map { op in
                (op, JSONValue.object(c.requests[op]!.keys.sorted().map { ($0, .int(c.requests[op]![$0]!)) }))
            }
            return [
                ("requests", .object(requests)),
                ("requestsTotal", .int(c.total)),
                ("rateLimited", .int(c.rateLimited)),
                ("faults", .object([("fail", .int(c.failed)), ("drop", .int(c.dropped)), ("latency", .int(c.delayed))])),
                ("byClient", .object(c.byClient.keys.sorted().map { client in
                    (client, .object([("writes", .int(c.byClient[client]!.writes)), ("reads", .int(c.byClient[client]!.reads))]))
                })),
            ]
        }
    }
}
