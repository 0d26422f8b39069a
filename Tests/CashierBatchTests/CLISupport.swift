import Foundation
import Testing

/// Runs the built `cashier-batch` executable as a user would, capturing its output.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
}

/// The repository root (for SampleData).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The executable sits beside the test bundle in the build products directory.
func cliBinary() throws -> URL {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cashier-batch"),
        Bundle.main.bundleURL.appendingPathComponent("cashier-batch"),
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("cashier-batch"),
    ]
    for url in candidates where FileManager.default.isExecutableFile(atPath: url.path) { return url }
    throw CLIError(message: "cashier-batch executable not found near \(CommandLine.arguments[0])")
}

struct CLIError: Error { var message: String }

/// Runs the executable on a dedicated thread: waiting for a child process must never
/// block Swift's cooperative pool, where in-process sandboxes serve their requests.
func runCLI(_ arguments: [String], environment: [String: String] = [:], cwd: URL = repoRoot) async throws -> CLIResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            do { continuation.resume(returning: try runCLIBlocking(arguments, environment: environment, cwd: cwd)) } catch {
                continuation.resume(throwing: error)
            }
        }.start()
    }
}

func runCLIBlocking(_ arguments: [String], environment: [String: String] = [:], cwd: URL = repoRoot) throws -> CLIResult {
    let process = try cliProcess(arguments, environment: environment, cwd: cwd)
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    return CLIResult(status: process.terminationStatus,
                     stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cb-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
        return path(name)
    }
}

/// The executable with its arguments, working directory and environment (the test's, plus `environment`).
func cliProcess(_ arguments: [String], environment: [String: String], cwd: URL) throws -> Process {
    let process = Process()
    process.executableURL = try cliBinary()
    process.arguments = arguments
    process.currentDirectoryURL = cwd
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    return process
}

/// Starts the executable without waiting (for kill tests); output goes to /dev/null, or
/// standard error to the file `stderrTo`.
func startCLI(_ arguments: [String], environment: [String: String] = [:], cwd: URL = repoRoot,
              stderrTo logPath: String? = nil) throws -> Process {
    let process = try cliProcess(arguments, environment: environment, cwd: cwd)
    process.standardOutput = FileHandle.nullDevice
    if let logPath {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    } else {
        process.standardError = FileHandle.nullDevice
    }
    try process.run()
    return process
}

/// Waits for a started process without blocking the cooperative pool.
func waitForExit(_ process: Process) async {
    await withCheckedContinuation { continuation in
        Thread {
            process.waitUntilExit()
            continuation.resume()
        }.start()
    }
}

/// Runs the executable as the unprivileged user `nobody` (setpriv, when the tests run as root),
/// so that file permissions apply; as any other user it runs as that user.
func runCLIAsNobody(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
    guard getuid() == 0 else { return try await runCLI(arguments, environment: environment) }
    let binary = try cliBinary().path
    return try await withCheckedThrowingContinuation { continuation in
        Thread {
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
                process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", binary] + arguments
                process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                let out = Pipe(), err = Pipe()
                process.standardOutput = out
                process.standardError = err
                try process.run()
                nonisolated(unsafe) var errData = Data()
                let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
                reader.start()
                let outData = out.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                while !reader.isFinished { usleep(1000) }
                continuation.resume(returning: CLIResult(status: process.terminationStatus,
                                                         stdout: String(decoding: outData, as: UTF8.self),
                                                         stderr: String(decoding: errData, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }.start()
    }
}

/// Gives `path` (and what is inside it) to `nobody`, so that `runCLIAsNobody` owns it.
func chownToNobody(_ path: String) {
    guard getuid() == 0 else { return }
    let chown = Process()
    chown.executableURL = URL(fileURLWithPath: "/bin/chown")
    chown.arguments = ["-R", "65534:65534", path]
    try? chown.run()
    chown.waitUntilExit()
}

/// A file's bytes and mode (to show that a command left it untouched).
func fileState(_ path: String) throws -> (bytes: Data, mode: Int) {
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1
    return (try Data(contentsOf: URL(fileURLWithPath: path)), mode)
}
