import Logging

/// What the sandbox does with the read-only figures (`balance`, `bonusBalance`,
/// `pendingPayoutTotal`) a client sends in `POST /cashiers`. Rebilly's request body does not
/// forbid extra members and its answer is not documented, so either is plausible.
public enum ReadonlyFieldsPolicy: String, Sendable, CaseIterable {
    /// Answer 422 naming each field.
    case reject
    /// Drop them, as if not sent.
    case ignore
}

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
    /// What a `POST /cashiers` carrying the read-only figures gets.
    public var readonlyFields: ReadonlyFieldsPolicy = .reject
    /// Probability (0...1) that another client of the organization (the operator's own site)
    /// creates a deposit request for the same customer right after each one the API creates:
    /// every other one identical in every field, the rest with the site's own terms.
    public var foreignDepositRate: Double = 0
    /// When set, only these customer ids exist: a cashier or deposit request for any other
    /// customer answers 422 on `customerId`, as Rebilly does for a customer it does not hold.
    public var requiredCustomers: Set<String>?
    /// Deposit requests each preloaded cashier's customer already has on its website and currency,
    /// made by the operator's own site before the sandbox started (all in the past; see `DepositHistory`).
    public var history: Int = 0
    /// How far the server's clock is off, in seconds (may be negative): every createdTime and
    /// updatedTime it stamps, and its `Date` header, are shifted by this.
    public var clockOffsetSeconds: Double = 0
    /// How far a proxy's clock is off from the server's, in seconds: only the `Date` header moves.
    public var dateHeaderOffsetSeconds: Double = 0
    /// When true, `POST /deposit-requests` for a (customerId, websiteId, currency) that has no
    /// cashier in the organization answers 422 with an `invalidFields` entry on `customerId`:
    /// "no cashier for this customer, website and currency" (e.g. after
    /// `DELETE /_sandbox/cashiers/{id}`). Off by default: many tests make deposit requests alone.
    public var requireCashierForDeposits = false
    /// Test only: answers that echo the `REB-APIKEY` a request carries (see `EchoKeyMode`); nil = none.
    public var echoKey: EchoKeyMode?

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
        if !(0...1).contains(foreignDepositRate) { problems.append("foreignDepositRate must be between 0 and 1") }
        if let latency, latency.lowerBound < .zero { problems.append("latency must not be negative") }
        if maxBodySize <= 0 { problems.append("maxBodySize must be positive") }
        if history < 0 { problems.append("history must not be negative") }
        if !clockOffsetSeconds.isFinite || abs(clockOffsetSeconds) > SandboxClock.maximumOffset {
            problems.append("clockOffsetSeconds must be within ±\(Int(SandboxClock.maximumOffset)) seconds")
        }
        if !dateHeaderOffsetSeconds.isFinite || abs(dateHeaderOffsetSeconds) > SandboxClock.maximumOffset {
            problems.append("dateHeaderOffsetSeconds must be within ±\(Int(SandboxClock.maximumOffset)) seconds")
        }
        return problems
    }

    /// A line of a customer-id file that is not an id.
    public struct CustomerFileError: Error, CustomStringConvertible, Sendable {
        public var line: Int
        public var text: String
        public var description: String { "line \(line): '\(text)' is not a customer id (^[@~\\-.\\w]+$, at most 50 characters)" }
    }

    /// Reads a file of customer ids, one per line (blank lines and `#` comments skipped).
    public static func customerIds(contentsOf path: String) throws -> Set<String> {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var ids = Set<String>()
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard FieldFormats.isResourceID(line[...]) else {
                throw CustomerFileError(line: offset + 1, text: line)
            }
            ids.insert(line)
        }
        return ids
    }
}
