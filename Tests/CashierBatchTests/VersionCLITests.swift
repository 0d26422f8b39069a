import BuildInfo
import Foundation
import Testing

/// `--version` and the build line: what the binary says it is, checked against sources that do
/// not come from the binary (Package.swift's text, the toolchain's `swift --version`, the
/// environment the build was given).
@Suite struct VersionCLITests {
    /// Package.swift's `let release = "…"`.
    static func packageRelease() throws -> String {
        let manifest = try String(contentsOf: repoRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let line = try #require(manifest.split(separator: "\n").first { $0.hasPrefix("let release = \"") })
        return String(line.dropFirst("let release = \"".count).dropLast())
    }

    /// The toolchain's version, from `swift --version` ("Swift version 6.3.1 (swift-6.3.1-RELEASE)").
    static func toolchainSwift() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "--version"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let words = text.split(whereSeparator: \.isWhitespace)
        let at = try #require(words.firstIndex(of: "version"), "swift --version printed: \(text)")
        return String(words[at + 1])
    }

    /// The commit the debug build was told: what Package.swift takes from CASHIER_BATCH_COMMIT
    /// (`swift test` builds with the same environment it runs with), else "unknown".
    static var expectedCommit: String {
        let given = ProcessInfo.processInfo.environment["CASHIER_BATCH_COMMIT"] ?? ""
        return given.isEmpty ? "unknown" : given
    }

    @Test func versionNamesTheReleaseTheCommitAndTheCompiler() async throws {
        let release = try Self.packageRelease()
        #expect(release.split(separator: ".").count == 3 && release.split(separator: ".").allSatisfy { Int($0) != nil },
                "Package.swift's release is a semantic version: \(release)")
        let result = try await runCLI(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "cashier-batch \(release) (commit \(Self.expectedCommit), Swift \(try Self.toolchainSwift()))\n")
        #expect(result.stderr == "")
    }

    /// The first line a command logs names the build, in both log formats, before its own first line.
    @Test func theFirstLogLineNamesTheBuild() async throws {
        let dir = try TempDir()
        let missing = dir.path("none.sqlite")
        let build = "release=\(try Self.packageRelease()) commit=\(Self.expectedCommit) swift=\(try Self.toolchainSwift())"

        let text = try await runCLI(["reconcile", "--db", missing])
        #expect(text.status == 66, "\(text.stderr)")
        let lines = text.stderr.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) ?? "" }
        #expect(lines == ["INFO cashier-batch \(build)", "ERROR no ledger at \(missing): give --db the ledger of the run to reconcile"])

        let json = try await runCLI(["reconcile", "--db", missing, "--log-format", "json"])
        #expect(json.status == 66)
        let first = try #require(json.stderr.split(separator: "\n").first)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: String])
        #expect(object.removeValue(forKey: "time") != nil)
        let release = try Self.packageRelease(), swift = try Self.toolchainSwift()
        #expect(object == ["level": "info", "message": "cashier-batch", "release": release, "commit": Self.expectedCommit, "swift": swift])
    }
}
