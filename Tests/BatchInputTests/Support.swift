import Foundation
import Testing
@testable import BatchInput
@testable import CashierModel

/// A temporary directory for one test, removed at the end.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cb-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
    func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }
}

/// Compresses with the system `gzip` (real zlib output, one member per call).
func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-c", "-n"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let writer = Thread { input.fileHandleForWriting.write(Data(bytes)); try? input.fileHandleForWriting.close() }
    writer.start()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Array(data)
}

/// Every record of a file, in order.
func records(_ path: String) throws -> [RawRecord] {
    var out: [RawRecord] = []
    try BatchReader(path: path).forEachRecord { out.append($0) }
    return out
}

func text(_ r: RawRecord, _ f: Field) -> String? { r[f]?.scalarText }

/// The repository root (for SampleData).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
