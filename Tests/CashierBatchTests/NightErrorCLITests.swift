import CashierModel
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Ledger
import Sandbox
import Testing

/// A TCP server on loopback that is not Rebilly: it redirects every request, or accepts
/// connections and never answers. Real sockets, as a proxy or a wrong host would be.
final class MisbehavingServer: @unchecked Sendable {
    /// `closed`: the port is bound but never listened on, so a connection is refused, and no
    /// other socket (another test's sandbox) can take the port while the server lives.
    enum Mode { case redirect(to: String), silent, closed }
    let port: Int
    private let fd: Int32
    private let mode: Mode
    private let lock = NSLock()
    private var held: [Int32] = []
    private var stopped = false

    init(_ mode: Mode) throws {
        self.mode = mode
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        if case .closed = mode {} else { setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw CLIError(message: "cannot bind: errno \(errno)") }
        if case .closed = mode {} else if listen(s, 128) != 0 { throw CLIError(message: "cannot listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) } }
        fd = s
        port = Int(UInt16(bigEndian: address.sin_port))
        if case .closed = mode { return }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    private func acceptLoop() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            switch mode {
            case let .redirect(location):
                Thread { Self.answerRedirect(client, location) }.start()
            case .silent, .closed:
                lock.lock(); held.append(client); lock.unlock()
            }
        }
    }

    /// Reads each request's head and answers 301, keeping the connection for the next request.
    private static func answerRedirect(_ client: Int32, _ location: String) {
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { close(client); return }
            pending += buffer[0..<n]
            while let end = pending.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
                let bodyLength = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                guard pending.count >= end.upperBound + bodyLength else { break }
                pending.removeFirst(end.upperBound + bodyLength)
                let answer = "HTTP/1.1 301 Moved Permanently\r\nLocation: \(location)\r\nContent-Length: 0\r\n\r\n"
                _ = answer.withCString { write(client, $0, strlen($0)) }
            }
        }
    }

    func stop() {
        lock.lock(); defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        shutdown(fd, Int32(SHUT_RDWR)); close(fd)
        for client in held { close(client) }
    }

    deinit { stop() }
}

/// Failures that belong to the night, not the row, stop the command with 69 and one line that
/// names the cause; the rows are left for `retry`, never rejected, and a retry against the
/// right Rebilly sends them all.
@Suite(.serialized) struct NightErrorCLITests {
    static let rows = 40

    func night(apiURL: String, extra: [String] = []) async throws -> (TempDir, CLIResult, Duration) {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: Self.rows)
        let start = ContinuousClock.now
        let result = try await runCLI(["run", "--api-url", apiURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                       "--in-doubt-settle", "0.2", "--report-dir", dir.path("reports"), batch] + extra,
                                      environment: ["REBILLY_API_KEY": "sandbox-secret-key"])
        return (dir, result, ContinuousClock.now - start)
    }

    /// The one error line, and every row still open (none rejected), then a retry that sends them.
    /// `cause`, or `other`: what the line may name (a silent server is one of two timeouts, by which
    /// deadline fires first on a loaded machine).
    func expectStoppedThenRetried(_ dir: TempDir, _ result: CLIResult, cause: String, or other: String? = nil) async throws {
        #expect(result.status == 69, "\(result.stderr)")
        let errors = result.stderr.split(separator: "\n").filter { $0.contains(" ERROR ") }
        #expect(errors.count == 1, "\(result.stderr)")
        let named = [cause] + (other.map { [$0] } ?? [])
        #expect(named.contains { errors.first?.hasSuffix("\($0) (20 requests in a row): the command stopped; the rows not done are left for `cashier-batch retry`") == true },
                "\(result.stderr)")
        let ledger = try Ledger(path: dir.path("ledger.sqlite"), access: .read)
        let counts = try ledger.countsByState(batchID: 1)
        #expect(counts[.rejected] == 0 && counts[.done] == 0, "\(counts)")
        let open = [RowState.pending, .failed, .inDoubt, .cashierCreated].map { counts[$0, default: 0] }.reduce(0, +)
        #expect(open == Self.rows, "\(counts)")

        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                      "--in-doubt-settle", "0.2", "--report-dir", dir.path("reports")],
                                     environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try Ledger(path: dir.path("ledger.sqlite"), access: .read).countsByState(batchID: 1)[.done] == Self.rows)
        #expect(stats["depositRequests"] == .number(String(Self.rows)))
    }

    @Test func aRefusedConnectionStopsTheNight() async throws {
        let closed = try MisbehavingServer(.closed)   // bound, never listening: refused
        let port = closed.port
        defer { closed.stop() }
        let (dir, result, elapsed) = try await night(apiURL: "http://127.0.0.1:\(port)")
        #expect(elapsed < .seconds(30), "stopped at once, not after every row's retries: \(elapsed)")
        try await expectStoppedThenRetried(dir, result, cause: "connection refused by 127.0.0.1:\(port)")
    }

    @Test func aWrongPathStopsTheNight() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let (dir, result, _) = try await night(apiURL: sandbox.baseURL + "/v2")
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(stats["cashiers"] == .number("0"))
        try await expectStoppedThenRetried(dir, result, cause: "404 on /v2/cashiers: check --api-url")
    }

    @Test func aRedirectStopsTheNight() async throws {
        let proxy = try MisbehavingServer(.redirect(to: "https://login.example/"))
        defer { proxy.stop() }
        let (dir, result, _) = try await night(apiURL: "http://127.0.0.1:\(proxy.port)")
        try await expectStoppedThenRetried(dir, result,
            cause: "HTTP 301 redirect on /cashiers to https://login.example/: check --api-url (the job never follows a redirect)")
    }

    @Test func aServerThatNeverAnswersStopsTheNight() async throws {
        let silent = try MisbehavingServer(.silent)
        defer { silent.stop() }
        let (dir, result, elapsed) = try await night(apiURL: "http://127.0.0.1:\(silent.port)", extra: ["--timeout", "0.5"])
        #expect(elapsed < .seconds(30), "\(elapsed)")
        try await expectStoppedThenRetried(dir, result, cause: "no answer from 127.0.0.1:\(silent.port) in 0.5 s",
                                           or: "127.0.0.1:\(silent.port) stopped answering mid-request (read or write timeout)")
    }
}
