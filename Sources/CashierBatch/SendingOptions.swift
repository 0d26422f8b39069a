import ArgumentParser
import Foundation
import BatchRun
import CashierModel
import Monitoring
import RebillyClient
import Throttle

/// The options every sending command takes (`run`, `retry`), with the same names in job files.
struct SendingOptions: ParsableArguments {
    @Option(help: "Rebilly API base URL; plain http:// only for loopback (the local sandbox).")
    var apiUrl: String = RebillyConfiguration.defaultBaseURL

    @Option(help: "Prefix every path with /organizations/ID (default: the API key's organization).")
    var organizationId: String?

    @Option(help: "The SQLite ledger file (created if absent, mode 0600).")
    var db: String = "cashier-batch.sqlite"

    @Option(help: "Where the run's reports are written.")
    var reportDir: String = "reports"

    @Option(help: "Shared rate limit for every request of the run, e.g. 3000/10m, 20/s.")
    var rate: String = "3000/10m"

    @Option(help: "Token-bucket burst (default: derived from --rate, never above the rate's window bound).")
    var burst: Int?

    @Option(help: "Rows in flight at once.")
    var concurrency: Int = 16

    @Option(help: "Attempts per API call before a row is recorded as failed (429, 5xx, timeouts, connection errors).")
    var maxAttempts: Int = 6

    @Option(help: "Seconds to wait after a deposit request's last unanswered POST before checking whether it was created (a lost request may still be committed by the server).")
    var inDoubtSettle: Double = 60

    @Flag(help: "Create cashiers only; no deposit requests.")
    var noDeposits = false

    @Flag(help: "Stage and show what would be sent; send nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("Send only shard i of N: the rows whose customerId hashes to i (FNV-1a 64 of its UTF-8 bytes, mod N; the same on every machine and night). Give each shard its own --db.", valueName: "i/N"))
    var shard: String?

    @Flag(help: "With --shard: --rate is this shard's own rate, not divided by N (default: every shard gets 1/N of --rate).")
    var noRateSplit = false

    @Option(help: "Read the API key from this file (mode 0600) instead of REBILLY_API_KEY.")
    var apiKeyFile: String?

    @Option(help: ArgumentHelp("Monitoring check URL (Healthchecks.io convention): POST URL/start when the job starts, URL on exit 0, URL/fail with the exit code otherwise. Best effort: never changes the exit code.", valueName: "url"))
    var pingUrl: String?

    @Option(help: "Log format on stderr: text or json.")
    var logFormat: LogFormat = .text

    func validate() throws {
        do { _ = try RateSpec(parsing: rate) } catch { throw ValidationError("--rate: \(error)") }
        if concurrency < 1 || concurrency > 1024 { throw ValidationError("--concurrency must be 1…1024") }
        if maxAttempts < 1 || maxAttempts > 100 { throw ValidationError("--max-attempts must be 1…100") }
        if let burst, burst < 1 { throw ValidationError("--burst must be at least 1") }
        if let shard {
            let parsed: Shard
            do { parsed = try Shard(parsing: shard) } catch { throw ValidationError("--shard: \(error)") }
            if !noRateSplit {
                do { _ = try RateSpec(parsing: rate).divided(by: parsed.count) } catch {
                    throw ValidationError("--rate with --shard \(shard): \(error) (or give each shard its own rate with --no-rate-split)")
                }
            }
        }
        if let pingUrl {
            do { _ = try HealthPing(url: pingUrl) } catch { throw ValidationError("\(error)") }
        }
        if inDoubtSettle < 0 || inDoubtSettle > 3600 { throw ValidationError("--in-doubt-settle must be 0…3600 seconds") }
        do { _ = try RebillyConfiguration(baseURL: apiUrl, organizationId: organizationId, apiKey: APIKey("placeholder")) } catch {
            throw ValidationError("--api-url / --organization-id: \(error)")
        }
    }

    /// The `--ping-url` pinger (checked in `validate()`).
    var healthPing: HealthPing? { pingUrl.flatMap { try? HealthPing(url: $0) } }

    /// The parsed `--shard` (checked in `validate()`).
    var parsedShard: Shard? { shard.flatMap { try? Shard(parsing: $0) } }

    /// The rate this process uses: `--rate`, divided by N with `--shard i/N` unless `--no-rate-split`.
    var effectiveRate: RateSpec {
        get throws {
            let spec = try RateSpec(parsing: rate)
            guard let shard = parsedShard, !noRateSplit else { return spec }
            return try spec.divided(by: shard.count)
        }
    }

    var policy: SendPolicy {
        var policy = SendPolicy()
        policy.maxAttempts = maxAttempts
        policy.deposits = !noDeposits
        policy.concurrency = concurrency
        policy.inDoubtSettleSeconds = inDoubtSettle
        return policy
    }

    /// The effective configuration in the job-file format; the API key itself is never shown.
    func configurationText(files: [String]) -> String {
        var lines = ["files:"] + files.map { "  - \($0)" }
        func line(_ key: String, _ value: String?) { lines.append("\(key): \(value ?? "null")") }
        line("api-url", apiUrl)
        line("organization-id", organizationId)
        line("db", db)
        line("report-dir", reportDir)
        line("rate", rate)
        line("burst", burst.map(String.init))
        line("concurrency", String(concurrency))
        line("max-attempts", String(maxAttempts))
        line("in-doubt-settle", String(inDoubtSettle))
        line("no-deposits", String(noDeposits))
        line("dry-run", String(dryRun))
        line("shard", shard)
        line("no-rate-split", String(noRateSplit))
        line("api-key-file", apiKeyFile)
        line("ping-url", pingUrl)
        line("log-format", logFormat.rawValue)
        let source = apiKeyFile.map { "from --api-key-file \($0)" }
            ?? (ProcessInfo.processInfo.environment["REBILLY_API_KEY"].map { $0.isEmpty ? "REBILLY_API_KEY is empty" : "from REBILLY_API_KEY" } ?? "none: set REBILLY_API_KEY or --api-key-file")
        lines.append("# api key: <redacted> (\(source))")
        return lines.joined(separator: "\n")
    }

    /// The options as recorded in the ledger: no secret (the key file's path, never the key).
    func optionsJSON(command: String, files: [String] = []) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.string("command", command)
        if !files.isEmpty { w.beginArray("files"); for f in files { w.string(nil, f) }; w.endArray() }
        w.string("apiUrl", apiUrl)
        if let organizationId { w.string("organizationId", organizationId) }
        w.string("db", db)
        w.string("reportDir", reportDir)
        w.string("rate", rate)
        if let burst { w.int("burst", burst) }
        w.int("concurrency", concurrency)
        w.int("maxAttempts", maxAttempts)
        w.number("inDoubtSettleSeconds", literal: String(inDoubtSettle))
        w.bool("deposits", !noDeposits)
        w.bool("dryRun", dryRun)
        if let shard = parsedShard {
            w.string("shard", shard.description)
            w.bool("rateSplit", !noRateSplit)
        }
        if let apiKeyFile { w.string("apiKeyFile", apiKeyFile) }
        if let ping = healthPing { w.string("pingUrl", ping.redacted) }
        w.endObject()
        return w.text
    }
}

enum LogFormat: String, ExpressibleByArgument, Sendable { case text, json }
