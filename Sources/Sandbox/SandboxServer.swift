import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The Rebilly-compatible sandbox HTTP server (Hummingbird). Start it in-process with
/// `start(_:)` (tests, demo, benchmarks) or serve it until SIGINT/SIGTERM with `serve(_:onReady:)`.
public enum SandboxServer {
    /// Why the server could not start.
    public struct StartError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Binds the configured address and serves in the background until `RunningSandbox.stop()`.
    /// Returns once the port is listening.
    public static func start(_ configuration: SandboxConfiguration) async throws -> RunningSandbox {
        let (app, baseURL) = try makeApplication(configuration)
        let group = app.serviceGroup(handlingSignals: false)
        let (ready, continuation) = AsyncThrowingStream<Int, any Error>.makeStream()
        let task = Task {
            do {
                try await group.run()
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let readyPort: Int?
        do {
            readyPort = try await app.readyPort(from: ready)
        } catch {
            task.cancel()
            throw error
        }
        guard let port = readyPort else {
            task.cancel()
            throw StartError(description: "the sandbox stopped before it was listening")
        }
        return RunningSandbox(
            port: port, host: configuration.host, apiKey: configuration.apiKey,
            baseURL: baseURL.withLock { $0 }, group: group, task: task
        )
    }

    /// Serves in the foreground until SIGINT or SIGTERM, then shuts down gracefully.
    /// `onReady` receives the bound port and base URL once the server listens.
    public static func serve(
        _ configuration: SandboxConfiguration,
        onReady: @escaping @Sendable (_ port: Int, _ baseURL: String) -> Void
    ) async throws {
        let (app, _) = try makeApplication(configuration, onReady: onReady)
        try await app.serviceGroup(handlingSignals: true).run()
    }

    private static func makeApplication(
        _ configuration: SandboxConfiguration,
        onReady: (@Sendable (Int, String) -> Void)? = nil
    ) throws -> (SandboxApplication, Locked<String>) {
        let problems = configuration.problems()
        guard problems.isEmpty else { throw StartError(description: problems.joined(separator: "; ")) }

        var logger = Logger(label: "sandbox")
        logger.logLevel = configuration.logLevel
        let baseURL = Locked("http://\(urlHost(configuration.host)):\(configuration.port)")
        let clock = SandboxClock(configuration)
        let api = SandboxAPI(configuration: configuration, baseURL: baseURL, clock: clock)
        let responder = SandboxResponder(
            configuration: configuration, api: api,
            limiter: configuration.rate.map { OrganizationWindows(rate: $0, clock: clock) },
            faults: FaultInjector(failRate: configuration.failRate, dropRate: configuration.dropRate, latency: configuration.latency, seed: configuration.seed),
            keyEcho: configuration.echoKey.map(KeyEcho.init(mode:)),
            stats: SandboxStats(), pings: PingLog(), logger: logger
        )
        let portBox = Locked<Int?>(nil)
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(additionalChannelHandlers: [DateHeaderHandler(clock: clock)])),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let url = "http://\(urlHost(configuration.host)):\(port)"
                baseURL.withLock { $0 = url }
                portBox.withLock { $0 = port }
                onReady?(port, url)
            },
            logger: logger
        )
        return (SandboxApplication(app: app, port: portBox), baseURL)
    }

    private static func urlHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }
}

/// The Hummingbird application plus the port it reports once running.
struct SandboxApplication: Sendable {
    let app: Application<SandboxResponder>
    let port: Locked<Int?>

    /// Hosts the application; a graceful shutdown (SIGINT/SIGTERM when `handlingSignals`, or
    /// `RunningSandbox.stop()`) stops accepting, lets in-flight requests finish, and cancels
    /// whatever is left after 5 seconds.
    func serviceGroup(handlingSignals: Bool) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: app)],
            gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [],
            logger: app.logger
        )
        configuration.maximumGracefulShutdownDuration = Duration.seconds(5)
        return ServiceGroup(configuration: configuration)
    }

    /// Waits until the server listens (or stops first) and returns its port.
    func readyPort(from stream: AsyncThrowingStream<Int, any Error>) async throws -> Int? {
        // The stream only finishes (or throws) when the server stops; poll the port meanwhile.
        try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                for try await _ in stream {}
                return nil
            }
            group.addTask {
                while !Task.isCancelled {
                    if let port = self.port.withLock({ $0 }) { return port }
                    try await Task.sleep(for: .milliseconds(2))
                }
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

/// A sandbox serving in the background of this process.
public struct RunningSandbox: Sendable {
    /// The bound port (the ephemeral one when the configuration asked for port 0).
    public let port: Int
    /// The address the server listens on.
    public let host: String
    /// The key the server accepts in `REB-APIKEY`.
    public let apiKey: String
    /// `http://127.0.0.1:PORT`, the API base URL to give a client.
    public let baseURL: String
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    init(port: Int, host: String, apiKey: String, baseURL: String, group: ServiceGroup, task: Task<Void, Never>) {
        self.port = port
        self.host = host
        self.apiKey = apiKey
        self.baseURL = baseURL
        self.group = group
        self.task = task
    }

    /// Shuts down gracefully: stops accepting connections, lets in-flight requests finish, closes
    /// idle keep-alive connections, and returns once the server is down. Calling it again is harmless.
    public func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }
}
