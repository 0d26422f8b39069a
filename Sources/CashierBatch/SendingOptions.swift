import ArgumentParser
import Foundation
import BatchRun
import CashierModel
import Gateway
import Monitoring
import RebillyClient
import Throttle

/// The options of every command that talks to Rebilly (`run`, `retry`, `reconcile`), with the
/// same names in job files and `CASHIER_BATCH_*` variables.
struct CommandOptions: ParsableArguments {
    @Option(help: "Rebilly API base URL; plain http:// only for loopback (the local sandbox).")
    var apiUrl: String = RebillyConfiguration.defaultBaseURL

    @Option(help: "Prefix every path with /organizations/ID (default: the API key's organization).")
    var organizationId: String?

    @Option(help: "The SQLite ledger file (created if absent, mode 0600).")
    var db: String = "cashier-batch.sqlite"

    @Option(help: "Where the run's reports are written.")
    var reportDir: String = "reports"

    @Option(help: "The write budget: non-GET requests (the ones Rebilly counts against the organization), e.g. 3000/10m, 20/s. Reads take no write token.")
    var rate: String = "3000/10m"

    @Option(help: "Reads (GET: read-backs, in-doubt and reconcile listings) in flight at once; they never wait for a write token.")
    var readConcurrency: Int = 8

    @Option(help: ArgumentHelp("An optional rate for reads, e.g. 50/s (default: bounded by --read-concurrency alone).", valueName: "N/period"))
    var readRate: String?

    @Option(help: "Writes that may go back to back (default: the window's limit for a window of a minute or more, so a fresh 3000/10m window is spent at once; else a second's share). No window ever holds more than --rate allows.")
    var burst: Int?

    @Option(help: "Rows in flight at once (run, retry).")
    var concurrency: Int = 16

    @Option(help: "Attempts per API call before it is given up (429, 5xx, timeouts, connection errors).")
    var maxAttempts: Int = 6

    @Option(help: ArgumentHelp("Seconds one request may take, from sending to the last byte of its answer, before it counts as unanswered.", valueName: "seconds"))
    var timeout: Double = 30

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
        if readConcurrency < 1 || readConcurrency > 1024 { throw ValidationError("--read-concurrency must be 1…1024") }
        if let readRate { do { _ = try RateSpec(parsing: readRate) } catch { throw ValidationError("--read-rate: \(error)") } }
        if maxAttempts < 1 || maxAttempts > 100 { throw ValidationError("--max-attempts must be 1…100") }
        if !(timeout >= 0.1 && timeout <= 600) { throw ValidationError("--timeout must be between 0.1 and 600 seconds") }
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

    /// The command's one gateway: `--rate` parsed once, one write budget and one read budget for
    /// every request. The User-Agent names the command (`cashier-batch (run)`), so a server's
    /// logs, and the sandbox's stats, tell the commands apart.
    func gateway(command: String, key: APIKey, inDoubtSettleSeconds: Double, control: RunControl,
                 events: @escaping @Sendable (GatewayEvent) -> Void) throws -> RebillyGateway {
        let limit = Duration.milliseconds(Int64((timeout * 1000).rounded()))
        let configuration = try RebillyConfiguration(baseURL: apiUrl, organizationId: organizationId, apiKey: key,
                                                     readTimeout: limit, requestDeadline: limit, maxConnections: concurrency + readConcurrency,
                                                     userAgent: "cashier-batch (\(command))")
        var settings = GatewaySettings(rate: try effectiveRate, burst: burst, maxAttempts: maxAttempts,
                                       inDoubtSettleSeconds: inDoubtSettleSeconds)
        settings.readConcurrency = readConcurrency
        settings.readRate = try readRate.map { try RateSpec(parsing: $0) }
        return RebillyGateway(client: RebillyClient(configuration: configuration), settings: settings, control: control, events: events)
    }

    /// The lines of `--print-config` for these options, in the job-file format.
    var configurationLines: [String] {
        var lines: [String] = []
        func line(_ key: String, _ value: String?) { lines.append("\(key): \(value ?? "null")") }
        line("api-url", apiUrl)
        line("organization-id", organizationId)
        line("db", db)
        line("report-dir", reportDir)
        line("rate", rate)
        line("read-concurrency", String(readConcurrency))
        line("read-rate", readRate)
        line("burst", burst.map(String.init))
        line("concurrency", String(concurrency))
        line("max-attempts", String(maxAttempts))
        line("timeout", LogValue.double(timeout).description)
        line("shard", shard)
        line("no-rate-split", String(noRateSplit))
        line("api-key-file", apiKeyFile)
        line("ping-url", pingUrl)
        line("log-format", logFormat.rawValue)
        return lines
    }

    /// Where the key comes from, for `--print-config` (never the key itself).
    var keySource: String {
        apiKeyFile.map { "from --api-key-file \($0)" }
            ?? (ProcessInfo.processInfo.environment["REBILLY_API_KEY"].map { $0.isEmpty ? "REBILLY_API_KEY is empty" : "from REBILLY_API_KEY" }
                ?? "none: set REBILLY_API_KEY or --api-key-file")
    }

    /// These options as recorded in the ledger: no secret (the key file's path, never the key).
    func writeJSON(into w: inout JSONWriter) {
        w.string("apiUrl", apiUrl)
        if let organizationId { w.string("organizationId", organizationId) }
        w.string("db", db)
        w.string("reportDir", reportDir)
        w.string("rate", rate)
        w.int("readConcurrency", readConcurrency)
        if let readRate { w.string("readRate", readRate) }
        if let burst { w.int("burst", burst) }
        w.int("concurrency", concurrency)
        w.int("maxAttempts", maxAttempts)
        w.number("timeoutSeconds", literal: LogValue.double(timeout).description)
        if let shard = parsedShard {
            w.string("shard", shard.description)
            w.bool("rateSplit", !noRateSplit)
        }
        if let apiKeyFile { w.string("apiKeyFile", apiKeyFile) }
        if let ping = healthPing { w.string("pingUrl", ping.redacted) }
    }
}

/// The options of the commands that send (`run`, `retry`).
struct SendingOptions: ParsableArguments {
    @Option(help: "Seconds to wait after a deposit request's last unanswered POST before checking whether it was created (a lost request may still be committed by the server). The row waits without holding a slot.")
    var inDoubtSettle: Double = 60

    @Flag(help: "Create cashiers only; no deposit requests.")
    var noDeposits = false

    @Flag(help: "Stage and show what would be sent; send nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("The end of the night's window: HH:MM (local time; tomorrow's when it has passed today) or an RFC 3339 time. No row starts that cannot finish by then at the write budget's current rate; rows in flight finish; the rest stay for `retry` (exit 5).", valueName: "TIME"))
    var until: String?

    /// `--until` as an instant, read once: `HH:MM` is the next such local time after the command started.
    var deadline: Date? { until.flatMap { try? UntilTime.parse($0, now: Self.started) } }
    private static let started = Date()

    func validate() throws {
        if !(0...3600).contains(inDoubtSettle) { throw ValidationError("--in-doubt-settle must be 0…3600 seconds") }
        if let until { do { _ = try UntilTime.parse(until, now: Date()) } catch { throw ValidationError("--until: \(error)") } }
    }

    func policy(concurrency: Int) -> SendPolicy {
        SendPolicy(deposits: !noDeposits, concurrency: concurrency, window: deadline.map { SendWindow(deadline: $0) })
    }

    var configurationLines: [String] {
        ["in-doubt-settle: \(inDoubtSettle)", "no-deposits: \(noDeposits)", "dry-run: \(dryRun)", "until: \(until ?? "null")"]
    }

    func writeJSON(into w: inout JSONWriter) {
        w.number("inDoubtSettleSeconds", literal: String(inDoubtSettle))
        w.bool("deposits", !noDeposits)
        w.bool("dryRun", dryRun)
        if let deadline { w.string("until", RFC3339.string(deadline)) }
    }
}

/// `--until TIME`: `HH:MM` (24-hour, local time: the next such minute, tomorrow's when it has
/// passed today) or an RFC 3339 date-time (`2026-12-08T05:30:00Z`, `…+01:00`), which may be past.
enum UntilTime {
    struct Invalid: Error, CustomStringConvertible { var description: String }

    static func parse(_ text: String, now: Date, timeZone: TimeZone = .current) throws -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
           let hour = Int(parts[0]), let minute = Int(parts[1]) {
            guard hour < 24, minute < 60 else {
                throw Invalid(description: "\"\(text)\" is not a time of day: give HH:MM from 00:00 to 23:59")
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            guard let next = calendar.nextDate(after: now, matching: DateComponents(hour: hour, minute: minute, second: 0),
                                               matchingPolicy: .nextTime) else {
                throw Invalid(description: "\"\(text)\": no such local time")
            }
            return next
        }
        if let date = RFC3339.date(trimmed) { return date }
        throw Invalid(description: "\"\(text)\" is neither HH:MM (local time) nor an RFC 3339 time such as 2026-12-08T05:30:00Z")
    }
}

/// The options JSON recorded with a command's run.
func optionsJSON(command: String, files: [String] = [], _ write: (inout JSONWriter) -> Void) -> String {
    var w = JSONWriter()
    w.beginObject()
    w.string("command", command)
    if !files.isEmpty { w.beginArray("files"); for f in files { w.string(nil, f) }; w.endArray() }
    write(&w)
    w.endObject()
    return w.text
}

enum LogFormat: String, ExpressibleByArgument, Sendable { case text, json }

