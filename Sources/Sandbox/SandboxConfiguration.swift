import Logging

/// Everything that shapes one sandbox server: where it listens, the key it accepts, its own
/// rate limit, the faults it injects and the cashiers it starts with. Defaults give a quiet,
/// fault-free, unlimited server on an ephemeral loopback port.
public struct SandboxConfiguration: Sendable {
    /// The documented development key the sandbox accepts when none is configured.
    public static let defaultAPIKey = "sandbox-secret-key"
    /// The organization that requests without an `/organizations/{id}` prefix belong to.
    public static let defaultOrganizationId = "org_sandbox"

    /// Address to bind; loopback by default.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free ephemeral port (see `RunningSandbox.port`).
    public var port: Int = 0
    /// The secret the `REB-APIKEY` header must carry.
    public var apiKey: String = SandboxConfiguration.defaultAPIKey
    /// Organization used for requests without the `/organizations/{id}` prefix.
    public var defaultOrganizationId: String = SandboxConfiguration.defaultOrganizationId
    /// When set, an `/organizations/{id}` prefix outside this set answers 403.
    public var allowedOrganizations: Set<String>?
    /// Non-GET requests allowed per organization per window; nil = unlimited.
    public var rate: SandboxRate?
    /// Probability (0...1) that a request answers 500, 502 or 503 without committing anything.
    public var failRate: Double = 0
    /// Probability (0...1) that a request is committed and then its connection closed unanswered.
    public var dropRate: Double = 0
    /// When set, `failRate` and `dropRate` apply only to these operations (`GetCashier`,
    /// `PostDepositRequest`, `GetDepositRequestCollection`, …); the others are never faulted.
    public var faultOperations: Set<String>?
    /// Extra delay drawn uniformly from this range for every API request; nil = none.
    public var latency: ClosedRange<Duration>?
    /// Seed for the fault generator; the same seed and request order give the same faults.
    public var seed: UInt64?
    /// Cashiers that exist from the start.
    public var preload: [PreloadedCashier] = []
    /// Level of the sandbox's logger; one line per request is logged at `.debug`.
    public var logLevel: Logger.Level = .notice
    /// Largest request body accepted, in bytes.
    public var maxBodySize: Int = 1 << 20

    public init(
        host: String = "127.0.0.1", port: Int = 0, apiKey: String = SandboxConfiguration.defaultAPIKey,
        rate: SandboxRate? = nil, failRate: Double = 0, dropRate: Double = 0,
        latency: ClosedRange<Duration>? = nil, seed: UInt64? = nil, preload: [PreloadedCashier] = []
    ) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.rate = rate
        self.failRate = failRate
        self.dropRate = dropRate
        self.latency = latency
        self.seed = seed
        self.preload = preload
    }

    /// Problems that make this configuration unusable, as human-readable sentences (empty if fine).
    public func problems() -> [String] {
        var problems: [String] = []
        if !(0...65535).contains(port) { problems.append("port must be between 0 and 65535") }
        if apiKey.isEmpty { problems.append("the API key must not be empty") }
        if !(0...1).contains(failRate) { problems.append("failRate must be between 0 and 1") }
        if !(0...1).contains(dropRate) { problems.append("dropRate must be between 0 and 1") }
        if failRate + dropRate > 1 { problems.append("failRate + dropRate must not exceed 1") }
        if let latency, latency.lowerBound < .zero { problems.append("latency must not be negative") }
        if maxBodySize <= 0 { problems.append("maxBodySize must be positive") }
        return problems
    }
}
