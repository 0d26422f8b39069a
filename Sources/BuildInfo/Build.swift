import CBuildInfo

/// What this binary is: its release, the commit it was built from and the Swift compiler that
/// built it. `--version`, the first log line, report.json and metrics.prom all show this value.
public struct Build: Sendable, Equatable {
    /// The semantic version (Package.swift's `release`).
    public var release: String
    /// The commit (`git rev-parse --short=12`, `-dirty` when the tree had changes), or "unknown"
    /// when the build was not told it (a plain `swift build`; see Package.swift).
    public var commit: String
    /// The compiler's version, as `#if compiler` tells it at build time.
    public var swift: String

    public init(release: String, commit: String, swift: String) {
        self.release = release
        self.commit = commit
        self.swift = swift
    }

    /// This binary's build.
    public static let current = Build(release: String(cString: cashier_batch_release()),
                                      commit: String(cString: cashier_batch_commit()), swift: compiler)

    /// `cashier-batch 1.0.0 (commit 0123456789ab, Swift 6.3.1)`: what `--version` prints.
    public var line: String { "cashier-batch \(release) (commit \(commit), Swift \(swift))" }

    /// The compiler that built this file. `#if compiler` is the only way a Swift build knows it,
    /// so each version this package builds with (swift-tools-version 6.2 and later) is named.
    static var compiler: String {
        #if compiler(>=6.4)
        return "6.4 or later"
        #elseif compiler(>=6.3.3)
        return "6.3.3"
        #elseif compiler(>=6.3.2)
        return "6.3.2"
        #elseif compiler(>=6.3.1)
        return "6.3.1"
        #elseif compiler(>=6.3)
        return "6.3.0"
        #elseif compiler(>=6.2.4)
        return "6.2.4"
        #elseif compiler(>=6.2.3)
        return "6.2.3"
        #elseif compiler(>=6.2.2)
        return "6.2.2"
        #elseif compiler(>=6.2.1)
        return "6.2.1"
        #else
        return "6.2.0"
        #endif
    }
}
