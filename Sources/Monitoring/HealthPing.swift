import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Dead-man's-switch pings in the Healthchecks.io convention: `POST <url>/start` when the job
/// starts, `POST <url>` when it exits 0, `POST <url>/fail` with the exit code otherwise.
///
/// A ping is best effort: it retries a little, then gives up and says why; it never changes the
/// job's outcome (a monitoring outage must not fail the night). The URL itself is treated as a
/// credential (a Healthchecks ping URL lets anyone report on the check), so only ``redacted`` is
/// meant for logs.
public struct HealthPing: Sendable {
    /// The check's URL without a trailing `/`.
    public let url: String
    /// Attempts per ping (connection errors, timeouts and 5xx are retried).
    public var attempts: Int
    /// Deadline of one attempt (async-http-client keeps reconnecting until it, so a refused
    /// connection costs the whole deadline; 3 attempts of 5 s bound a dead monitor to ~17 s per ping).
    public var timeout: TimeAmount
    /// Pause between attempts.
    public var retryDelay: Duration

    public struct InvalidURL: Error, CustomStringConvertible {
        public let description: String
    }

    /// What happened to one ping.
    public enum Outcome: Sendable, Equatable {
        /// The server answered 2xx.
        case delivered(status: Int)
        /// Every attempt failed; the reason of the last one.
        case failed(String)
    }

    public init(url: String, attempts: Int = 3, timeout: TimeAmount = .seconds(5), retryDelay: Duration = .seconds(1)) throws {
        var trimmed = url
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let parsed = URL(string: trimmed), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty else {
            throw InvalidURL(description: "--ping-url must be an absolute http:// or https:// URL")
        }
        guard parsed.query == nil, parsed.fragment == nil else {
            throw InvalidURL(description: "--ping-url must not have a query or fragment (/start and /fail are appended to its path)")
        }
        self.url = trimmed
        self.attempts = max(1, attempts)
        self.timeout = timeout
        self.retryDelay = retryDelay
    }

    /// `scheme://host[:port]/…`: what logs show instead of the URL.
    public var redacted: String {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, let host = parsed.host else { return "<ping url>" }
        let port = parsed.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/…"
    }

    /// `POST <url>/start`.
    public func start(body: String = "") async -> Outcome {
        await post(url + "/start", body: body)
    }

    /// `POST <url>` for exit code 0, else `POST <url>/fail`; the body starts with `exit N`.
    public func finish(exitCode: Int32, body: String) async -> Outcome {
        let text = "exit \(exitCode)" + (body.isEmpty ? "" : "\n" + body)
        return await post(exitCode == 0 ? url : url + "/fail", body: text)
    }

    private func post(_ target: String, body: String) async -> Outcome {
        var config = HTTPClient.Configuration()
        config.timeout = .init(connect: timeout, read: timeout)
        config.redirectConfiguration = .follow(max: 3, allowCycles: false)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
        let outcome = await post(target, body: body, client: client)
        try? await client.shutdown()
        return outcome
    }

    private func post(_ target: String, body: String, client: HTTPClient) async -> Outcome {
        var last = "not sent"
        for attempt in 1...attempts {
            if attempt > 1 { try? await Task.sleep(for: retryDelay) }
            var request = HTTPClientRequest(url: target)
            request.method = .POST
            request.headers.add(name: "User-Agent", value: "cashier-batch")
            request.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            request.body = .bytes(ByteBuffer(string: body))
            do {
                let response = try await client.execute(request, deadline: .now() + timeout)
                _ = try? await response.body.collect(upTo: 64 * 1024)
                let status = Int(response.status.code)
                if (200..<300).contains(status) { return .delivered(status: status) }
                last = "HTTP \(status)"
                if status < 500 && status != 429 { return .failed(last) }
            } catch {
                last = Self.describe(error)
            }
        }
        return .failed(last)
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return error.description }
        return String(describing: error)
    }
}
