// swift-tools-version:6.2
import PackageDescription

// Module map (every arrow points down; README "Architecture" has it whole, and
// .ci/architecture-check.py checks it against the imports and these targets):
//   CashierBatch (executable: commands, wiring) → BatchRun, Reports, Monitoring, Sandbox, Gateway, …
//   BatchRun        the night: CommandSession, stage, send, retry   → Reconciliation, Gateway, Ledger, BatchInput
//   Reports         the reports from the ledger                      → Reconciliation, Ledger
//   Reconciliation  breaks and totals                                → Gateway, Ledger
//   Gateway         the one way to talk to Rebilly                   → RebillyClient, Throttle
//   Ledger, RebillyClient, BatchInput, Throttle, Monitoring, Sandbox → CashierModel (or nothing)
//   BuildInfo       release, commit and compiler of this binary      → CBuildInfo (C: Package.swift's defines)
//   http-ceiling (Benchmarks/HTTPCeiling): async-http-client alone, for Benchmarks/send-bench.sh
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// The release, a semantic version: `--version`, the first log line, report.json and metrics.prom show it.
let release = "1.0.0"
/// The commit the binary is built from. Jobs/build-release.sh and Jobs/Containerfile set
/// CASHIER_BATCH_COMMIT; a plain `swift build` is not told it and says "unknown". Anything but
/// hex digits, letters, "." and "-" is refused, so the value is always a plain C string literal.
let commit: String = {
    let given = Context.environment["CASHIER_BATCH_COMMIT"] ?? ""
    let plain = !given.isEmpty && given.count <= 64
        && given.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "-" || $0 == "." }
    return plain ? given : "unknown"
}()

let package = Package(
    name: "cashier-batch",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex
    products: [
        .executable(name: "cashier-batch", targets: ["CashierBatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // The build stamp: C defines carry Package.swift's values into the binary.
        .target(
            name: "CBuildInfo",
            cSettings: [.define("CASHIER_BATCH_RELEASE", to: "\"\(release)\""), .define("CASHIER_BATCH_COMMIT", to: "\"\(commit)\"")]
        ),
        .target(name: "BuildInfo", dependencies: ["CBuildInfo"], swiftSettings: strict),
        .target(name: "CashierModel", swiftSettings: strict),
        .target(name: "BatchInput", dependencies: ["CashierModel", "CZlib"], swiftSettings: strict),
        .target(
            name: "Ledger",
            dependencies: [
                "CashierModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),  // raw binding in the staging hot loop
            ],
            swiftSettings: strict
        ),
        .target(name: "Throttle", swiftSettings: strict),
        .target(
            name: "RebillyClient",
            dependencies: [
                "CashierModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Gateway",
            dependencies: ["CashierModel", "RebillyClient", "Throttle"],
            swiftSettings: strict
        ),
        .target(
            name: "Monitoring",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Sandbox",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),  // the Date header on the sandbox's clock
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "BatchRun",
            dependencies: ["CashierModel", "BatchInput", "Ledger", "Gateway", "Reconciliation"],
            swiftSettings: strict
        ),
        .target(
            name: "Reconciliation",
            dependencies: ["CashierModel", "Ledger", "Gateway"],
            swiftSettings: strict
        ),
        .target(
            name: "Reports",
            dependencies: ["CashierModel", "Ledger", "Reconciliation", "BuildInfo"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "CashierBatch",
            dependencies: [
                "CashierModel", "BatchInput", "Ledger", "Sandbox", "BatchRun", "RebillyClient", "Throttle", "Gateway",
                "Reconciliation", "Reports", "Monitoring", "BuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks/send-bench.sh: async-http-client alone, the ceiling of the sending design.
        .executableTarget(
            name: "http-ceiling",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/HTTPCeiling"
        ),
        .testTarget(name: "CashierModelTests", dependencies: ["CashierModel"]),
        .testTarget(name: "BatchInputTests", dependencies: ["BatchInput", "CashierModel"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "CashierModel", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "SandboxTests",
            dependencies: [
                "Sandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "ThrottleTests", dependencies: ["Throttle"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "RebillyClient", "Sandbox", "CashierModel", "Throttle",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "MonitoringTests",
            dependencies: [
                "Monitoring", "Sandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "RebillyClientTests",
            dependencies: ["RebillyClient", "Sandbox", "CashierModel"]
        ),
        .testTarget(
            name: "BatchRunTests",
            dependencies: [
                "BatchRun", "Ledger", "CashierModel", "Sandbox", "RebillyClient", "Throttle", "Gateway",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "ReconciliationTests",
            dependencies: ["Reconciliation", "Ledger", "CashierModel", "Sandbox", "RebillyClient", "BatchRun", "Gateway", "Throttle",
                           .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "Reconciliation", "Ledger", "CashierModel", "BatchInput", "BuildInfo"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "CashierBatchTests",
            dependencies: [
                "CashierBatch", "CashierModel", "Ledger", "Sandbox", "BatchRun", "Gateway", "BuildInfo",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)
