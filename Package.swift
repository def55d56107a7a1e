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

/// Products the targets below name more than once.
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")

/// A Swift library target of ours under Sources/NAME with the shared settings.
func library(
    _ name: String, _ dependencies: [Target.Dependency], path: String? = nil, resources: [String] = [], extraSettings: [SwiftSetting] = []
) -> Target {
    .target(
        name: name, dependencies: dependencies, path: path, exclude: path == nil ? [] : ["README.md"],
        resources: resources.map { .embedInCode($0) }, swiftSettings: swiftSettings + extraSettings)
}

/// A C library found through pkg-config, installed from Debian's package.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

/// The Redis scripts of the queue core, one file each (Sources/SwitchboardQueue/Scripts).
/// Every Switchboard module: what the executable and the test targets build on.
let allModules: [Target.Dependency] = [
    "SwitchboardRedis", "SwitchboardPostgres", "SwitchboardHTTP", "SwitchboardProcess", "SwitchboardStore", "SwitchboardQueue",
    "SwitchboardScheduler", "SwitchboardWebhooks", "Jobs", "SwitchboardJSON", "SwitchboardEmbedding", "SwitchboardKnowledge",
    "SwitchboardUnderstanding", "SwitchboardOrders", "SwitchboardProviders", "SwitchboardAI", "SwitchboardConversations",
]

let queueScripts = [
    "prelude", "enqueue", "take", "complete", "fail", "extend", "requeue", "revive", "discard", "purge", "check", "fire", "lock",
    "fenced_append", "debounce", "ratelimit", "semaphore", "relay", "outbox", "unwait", "park", "wake",
].map { "Scripts/\($0).lua" }

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
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
    ],
    targets: [
        // MARK: C shims — module maps and typed wrappers only, no logic.
        systemLibrary("CHiredis", pkgConfig: "hiredis", apt: "libhiredis-dev"),
        systemLibrary("CLibPQ", pkgConfig: "libpq", apt: "libpq-dev"),
        systemLibrary("CCurl", pkgConfig: "libcurl", apt: "libcurl4-openssl-dev"),
        systemLibrary("CBLAS", pkgConfig: "openblas", apt: "libopenblas-dev"),

        // MARK: Thin clients — Swift values in, Swift values out; blocking C calls on dedicated threads.
        library(
            "SwitchboardRedis",
            [
                "CHiredis", crypto, nioPosix, .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]),
        library("SwitchboardPostgres", ["CLibPQ", nioPosix]),
        library("SwitchboardHTTP", ["CCurl", nioPosix]),
        // Hosted models over SwitchboardHTTP: OpenAI-compatible chat and embeddings, Anthropic; retries, fallback, breaker.
        library("SwitchboardProviders", ["SwitchboardHTTP", "SwitchboardJSON"]),
        // Child processes with a clean signal state (the worker supervisor, the bench, the tests' servers).
        library("SwitchboardProcess", []),

        // MARK: The embedded sentence model (all-MiniLM-L6-v2) over OpenBLAS — domain-free: texts in, vectors out.
        // Optimised in debug builds too: its SIMD kernels are ~15× slower unoptimised, and the suite embeds a help center.
        // Packed-weight AVX-512 kernels for short inputs (dispatched at run time; BLAS elsewhere).
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        library(
            "SwitchboardEmbedding", ["CBLAS", "CKernels", "SwitchboardJSON", nioPosix, .product(name: "DequeModule", package: "swift-collections")],
            extraSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),

        // MARK: JSON — a small value type and parser shared by the queue core, the webhook app and the jobs.
        library("SwitchboardJSON", []),

        // MARK: Queue core — domain-free: jobs, leases, retries, workers. Each Redis script is its own .lua file.
        library(
            "SwitchboardQueue",
            [
                "SwitchboardRedis", "SwitchboardJSON", logging, metrics, .product(name: "CoreMetrics", package: "swift-metrics"), lifecycle,
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            resources: queueScripts),

        // MARK: Scheduler — cron tables, time zones, replicas firing each tick once. Domain-free, on the queue core.
        library(
            "SwitchboardScheduler", ["SwitchboardQueue", "SwitchboardRedis", .product(name: "Yams", package: "Yams"), logging, lifecycle],
            resources: ["Scripts/leader.lua"]),

        // MARK: Webhook app — the thin receiver: verify, route, enqueue. Depends on the job definitions it enqueues.
        library(
            "SwitchboardWebhooks",
            [
                "SwitchboardQueue", "SwitchboardStore", "SwitchboardJSON", "Jobs", hummingbird, httpTypes,
                .product(name: "NIOCore", package: "swift-nio"), crypto, logging, metrics,
            ]),

        // MARK: Domain storage — schema migrations, tenants, channels, sealed secrets.
        library("SwitchboardStore", ["SwitchboardPostgres", crypto, logging]),

        // MARK: Tenant knowledge — catalogue and help center in PostgreSQL, import, hybrid retrieval, catalogue matching.
        library(
            "SwitchboardKnowledge",
            [
                "SwitchboardStore", "SwitchboardPostgres", "SwitchboardEmbedding", "SwitchboardJSON", crypto,
                .product(name: "Yams", package: "Yams"), .product(name: "CSV", package: "CSV.swift"),
            ]),

        // MARK: Turn understanding — intents, out-of-scope, sentiment and urgency, entities and PII, language. Optimised in
        // debug builds too: training and scoring are tight loops the suite runs.
        library(
            "SwitchboardUnderstanding",
            [
                "CBLAS", "SwitchboardEmbedding", "SwitchboardKnowledge", "SwitchboardPostgres", "SwitchboardStore", crypto, logging,
                .product(name: "CSV", package: "CSV.swift"),
            ],
            extraSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),

        // MARK: Order extraction — customers' words to order lines against the tenant's catalogue; orders in PostgreSQL.
        library(
            "SwitchboardOrders",
            ["SwitchboardKnowledge", "SwitchboardEmbedding", "SwitchboardPostgres", "SwitchboardStore", "SwitchboardJSON", logging]),

        // MARK: Conversations — turns of a conversation, the reply / draft / handoff rules, the embedded reply writer, the
        // timeline ops read.
        library(
            "SwitchboardConversations",
            [
                "SwitchboardUnderstanding", "SwitchboardKnowledge", "SwitchboardOrders", "SwitchboardEmbedding", "SwitchboardPostgres",
                "SwitchboardStore", crypto, logging,
            ]),

        // MARK: A tenant's hosted models — provider accounts and keys, each agent's chain, usage, cost and budgets.
        library(
            "SwitchboardAI",
            [
                "SwitchboardProviders", "SwitchboardStore", "SwitchboardPostgres", "SwitchboardQueue", "SwitchboardRedis", "SwitchboardHTTP", crypto,
                logging,
            ]),

        // MARK: Domain jobs (the product card's top-level Jobs/ folder).
        library(
            "Jobs",
            [
                "SwitchboardStore", "SwitchboardQueue", "SwitchboardPostgres", "SwitchboardJSON", "SwitchboardKnowledge", "SwitchboardEmbedding",
                "SwitchboardUnderstanding", "SwitchboardOrders", "SwitchboardAI", "SwitchboardProviders", "SwitchboardHTTP",
                "SwitchboardConversations", crypto, logging,
            ],
            path: "Jobs"),

        // MARK: The one executable.
        .executableTarget(
            name: "switchboard",
            dependencies: allModules + [
                .product(name: "ArgumentParser", package: "swift-argument-parser"), hummingbird,
                logging, lifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"), metrics,
                .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Tests — pure logic, no services.
        .testTarget(
            name: "UnitTests",
            dependencies: allModules + [
                logging
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
        // Real redis-server, PostgreSQL 15 and a local HTTP server; started by scripts/services.
        .testTarget(
            name: "IntegrationTests",
            dependencies: allModules + [
                hummingbird,
                .product(name: "HummingbirdTesting", package: "hummingbird"), lifecycle, httpTypes,
            ],
            swiftSettings: swiftSettings),
    ]
)
