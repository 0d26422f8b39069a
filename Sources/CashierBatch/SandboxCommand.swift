import ArgumentParser
import BuildInfo
import Foundation
import Logging
import Sandbox

/// `cashier-batch sandbox`: serve the local Rebilly-compatible API on loopback until SIGINT/SIGTERM,
/// with its own rate limit and optional fault injection (see docs/sandbox.md).
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serve the local Rebilly-compatible API on loopback.",
        discussion: """
        Serves POST /cashiers, GET /cashiers/{id}, POST and GET /deposit-requests and \
        GET /deposit-requests/{id} (with or without the /organizations/{id} prefix), plus \
        /_sandbox/stats and /_sandbox/cashiers for inspection. The API key comes from \
        --api-key, else SANDBOX_API_KEY, else the development key \
        "\(SandboxConfiguration.defaultAPIKey)". See docs/sandbox.md.
        """
    )

    @Option(help: "Address to listen on (loopback unless you mean otherwise).")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port.")
    var port: Int = 8089

    @Option(help: "API key the REB-APIKEY header must carry (default: $SANDBOX_API_KEY, else the development key).")
    var apiKey: String?

    @Option(help: ArgumentHelp("Rate limit per organization for non-GET requests, e.g. 3000/10m, 50/s, 100/m (default: unlimited).", valueName: "N/period"))
    var rate: String?

    @Option(help: "Probability (0...1) that a request answers 500/502/503 without committing anything.")
    var failRate: Double = 0

    @Option(help: "Probability (0...1) that a request is committed, then its connection closed with no response.")
    var dropRate: Double = 0

    @Option(help: ArgumentHelp("Extra delay per request, drawn uniformly from a range such as 5ms..50ms (or one fixed value).", valueName: "min..max"))
    var latency: String?

    @Option(help: "Seed for the fault generator, so the same requests meet the same faults.")
    var seed: UInt64?

    @Option(help: ArgumentHelp("JSON Lines file of cashiers that exist from the start (customerId, websiteId, currency, balances...).", valueName: "file"))
    var preload: String?

    @Option(help: "Organization id (repeatable) that /organizations/{id} paths may use; others answer 403. Default: any.")
    var organization: [String] = []

    @Option(help: "What a POST /cashiers that carries balance, bonusBalance or pendingPayoutTotal (Rebilly's, read-only) gets: reject (422) or ignore.")
    var readonlyFields: ReadonlyFieldsPolicy = .reject

    @Option(help: ArgumentHelp("Deposit requests each preloaded cashier's customer already has on its website and currency, made by the operator's site before the start (one per 10 minutes, the newest over an hour old).", valueName: "N"))
    var history: Int = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("How far the server's clock is off, in seconds (may be negative): createdTime, updatedTime and the Date header are shifted.", valueName: "seconds"))
    var clockOffset: Double = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("How far a proxy's Date header is off, in seconds (may be negative): only the Date header is shifted.", valueName: "seconds"))
    var dateHeaderOffset: Double = 0

    @Option(help: ArgumentHelp("Probability (0...1) that another client (the operator's site) makes a deposit request for the same customer after each one created, half of them identical in every field.", valueName: "rate"))
    var foreignDeposits: Double = 0

    @Option(help: ArgumentHelp("File of the customer ids that exist, one per line; a cashier or deposit request for any other answers 422 on customerId (default: any customer exists).", valueName: "file"))
    var requireCustomers: String?

    @Option(help: ArgumentHelp("Test only: echo the REB-APIKEY a request carries back, as a careless proxy would: invalid-fields (422 on creates, key in detail and invalidFields), unauthorized (401, key in detail), redirect (302 to a login URL with the key), error-page (502 HTML page quoting the key).", valueName: "mode"))
    var echoKey: EchoKeyMode?

    @Option(help: ArgumentHelp("Log level: trace, debug (one line per request), info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        if let rate, SandboxRate(parsing: rate) == nil {
            throw ValidationError("--rate '\(rate)' is not N/period, e.g. 3000/10m, 50/s or 100/m.")
        }
        guard (0...1).contains(failRate) else { throw ValidationError("--fail-rate must be between 0 and 1.") }
        guard (0...1).contains(dropRate) else { throw ValidationError("--drop-rate must be between 0 and 1.") }
        guard failRate + dropRate <= 1 else { throw ValidationError("--fail-rate plus --drop-rate must not exceed 1.") }
        if let latency, SandboxDurations.parseRange(latency) == nil {
            throw ValidationError("--latency '\(latency)' is not a range such as 5ms..50ms.")
        }
        if let preload {
            guard FileManager.default.isReadableFile(atPath: preload) else {
                throw ValidationError("--preload file '\(preload)' cannot be read.")
            }
            do {
                _ = try PreloadedCashier.load(contentsOf: preload)
            } catch {
                throw ValidationError("--preload \(preload): \(error)")
            }
        }
        guard (0...1).contains(foreignDeposits) else { throw ValidationError("--foreign-deposits must be between 0 and 1.") }
        guard history >= 0 else { throw ValidationError("--history must not be negative.") }
        for (name, offset) in [("--clock-offset", clockOffset), ("--date-header-offset", dateHeaderOffset)] {
            guard offset.isFinite, abs(offset) <= 366 * 86_400 else {
                throw ValidationError("\(name) must be a number of seconds within a year either way.")
            }
        }
        if let requireCustomers {
            do { _ = try SandboxConfiguration.customerIds(contentsOf: requireCustomers) } catch {
                throw ValidationError("--require-customers \(requireCustomers): \(error)")
            }
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api-key must not be empty.") }
    }

    func run() async throws {
        var config = SandboxConfiguration(host: host, port: port)
        config.apiKey = apiKey ?? ProcessInfo.processInfo.environment["SANDBOX_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            ?? SandboxConfiguration.defaultAPIKey
        config.rate = rate.flatMap(SandboxRate.init(parsing:))
        config.failRate = failRate
        config.dropRate = dropRate
        config.latency = latency.flatMap(SandboxDurations.parseRange)
        config.seed = seed
        config.allowedOrganizations = organization.isEmpty ? nil : Set(organization)
        config.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        config.readonlyFields = readonlyFields
        config.foreignDepositRate = foreignDeposits
        config.history = history
        config.clockOffsetSeconds = clockOffset
        config.dateHeaderOffsetSeconds = dateHeaderOffset
        config.echoKey = echoKey
        if let requireCustomers {
            config.requiredCustomers = try SandboxConfiguration.customerIds(contentsOf: requireCustomers)  // checked in validate()
        }
        if let preload {
            config.preload = try PreloadedCashier.load(contentsOf: preload)  // checked in validate()
        }
        let keySource = apiKey != nil ? "--api-key" : ProcessInfo.processInfo.environment["SANDBOX_API_KEY"]?.isEmpty == false
            ? "SANDBOX_API_KEY" : "development key \"\(SandboxConfiguration.defaultAPIKey)\""
        var settings = [
            "read-only figures: \(readonlyFields.rawValue)",
            "rate \(config.rate.map(String.init(describing:)) ?? "unlimited")",
            "fail-rate \(failRate)", "drop-rate \(dropRate)",
            "latency \(latency ?? "none")", "seed \(seed.map(String.init) ?? "random")",
            "\(config.preload.count) preloaded cashier(s)",
        ]
        if foreignDeposits > 0 { settings.append("foreign deposits \(foreignDeposits)") }
        if let known = config.requiredCustomers { settings.append("\(known.count) known customer(s)") }
        if history > 0 { settings.append("history \(history) per preloaded cashier") }
        if clockOffset != 0 { settings.append("clock offset \(clockOffset) s") }
        if dateHeaderOffset != 0 { settings.append("Date header offset \(dateHeaderOffset) s") }
        if let echoKey { settings.append("echoing the key: \(echoKey.rawValue)") }
        let summary = settings.joined(separator: ", ")
        try await SandboxServer.serve(config) { _, baseURL in
            // Unbuffered, so a script waiting for this line sees it at once.
            let line = "Sandbox listening on \(baseURL) (API key: \(keySource); \(summary)). Ctrl-C stops it. \(Build.current.line)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}

extension ReadonlyFieldsPolicy: ExpressibleByArgument {}
extension EchoKeyMode: ExpressibleByArgument {}
