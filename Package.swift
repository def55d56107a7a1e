// swift-tools-version: 6.2
// Switchboard: a Redis-backed background-job engine for AI customer-service platforms.
import PackageDescription

/// Settings every Switchboard target shares: Swift 6 mode comes from the tools version;
/// these make dependencies explicit and existentials visible.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"])
    ],
    dependencies: [
        // traits: [] — SwiftPM 6.3.1 rebuilds Hummingbird spuriously with its default traits
        // (swiftlang/swift-package-manager#10525) and they pull in full Foundation + ICU.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // MARK: C shims — module maps and typed wrappers only, no logic.
        .systemLibrary(
            name: "CHiredis", path: "Sources/CHiredis", pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),

        // MARK: Thin clients — Swift values in, Swift values out; blocking C calls on dedicated threads.
        .target(
            name: "SwitchboardRedis",
            dependencies: [
                "CHiredis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "SwitchboardPostgres",
            dependencies: [
                "CLibPQ",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "SwitchboardHTTP",
            dependencies: [
                "CCurl",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),

        // MARK: JSON — a small value type and parser shared by the queue core, the webhook app and the jobs.
        .target(name: "SwitchboardJSON", swiftSettings: swiftSettings),

        // MARK: Queue core — domain-free: jobs, leases, retries, workers. Each Redis script is its own .lua file.
        .target(
            name: "SwitchboardQueue",
            dependencies: [
                "SwitchboardRedis", "SwitchboardJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [
                .embedInCode("Scripts/prelude.lua"), .embedInCode("Scripts/enqueue.lua"), .embedInCode("Scripts/take.lua"),
                .embedInCode("Scripts/complete.lua"), .embedInCode("Scripts/fail.lua"), .embedInCode("Scripts/extend.lua"),
                .embedInCode("Scripts/requeue.lua"), .embedInCode("Scripts/revive.lua"), .embedInCode("Scripts/discard.lua"),
                .embedInCode("Scripts/purge.lua"), .embedInCode("Scripts/check.lua"), .embedInCode("Scripts/fire.lua"),
                .embedInCode("Scripts/lock.lua"), .embedInCode("Scripts/fenced_append.lua"), .embedInCode("Scripts/debounce.lua"),
                .embedInCode("Scripts/ratelimit.lua"), .embedInCode("Scripts/semaphore.lua"), .embedInCode("Scripts/relay.lua"),
                .embedInCode("Scripts/outbox.lua"), .embedInCode("Scripts/unwait.lua"),
                .embedInCode("Scripts/park.lua"), .embedInCode("Scripts/wake.lua"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Scheduler — cron tables, time zones, replicas firing each tick once. Domain-free, on the queue core.
        .target(
            name: "SwitchboardScheduler",
            dependencies: [
                "SwitchboardQueue", "SwitchboardRedis",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("Scripts/leader.lua")],
            swiftSettings: swiftSettings),

        // MARK: Webhook app — the thin receiver: verify, route, enqueue. Depends on the job definitions it enqueues.
        .target(
            name: "SwitchboardWebhooks",
            dependencies: [
                "SwitchboardQueue", "SwitchboardStore", "SwitchboardJSON", "Jobs",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Domain storage — schema migrations, tenants, channels, sealed secrets.
        .target(
            name: "SwitchboardStore",
            dependencies: [
                "SwitchboardPostgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Domain jobs (the product card's top-level Jobs/ folder).
        .target(
            name: "Jobs",
            dependencies: [
                "SwitchboardStore", "SwitchboardQueue", "SwitchboardPostgres", "SwitchboardJSON",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Jobs",
            exclude: ["README.md"],
            swiftSettings: swiftSettings),

        // MARK: The one executable.
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "SwitchboardRedis", "SwitchboardPostgres", "SwitchboardHTTP", "SwitchboardStore", "SwitchboardQueue", "SwitchboardScheduler",
                "SwitchboardWebhooks", "Jobs",
                "SwitchboardJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Tests — pure logic, no services.
        .testTarget(
            name: "UnitTests",
            dependencies: [
                "SwitchboardRedis", "SwitchboardPostgres", "SwitchboardStore", "SwitchboardQueue", "SwitchboardScheduler", "SwitchboardWebhooks",
                "Jobs",
                "SwitchboardJSON",
            ],
            swiftSettings: swiftSettings),
        // Real redis-server, PostgreSQL 15 and a local HTTP server; started by scripts/services.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "SwitchboardRedis", "SwitchboardPostgres", "SwitchboardHTTP", "SwitchboardStore", "SwitchboardQueue", "SwitchboardScheduler",
                "SwitchboardWebhooks", "Jobs", "SwitchboardJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings),
    ]
)
