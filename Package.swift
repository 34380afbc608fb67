// swift-tools-version:6.0
// Swift 6 language mode (the tools version's default) with complete strict concurrency.
import PackageDescription

let package = Package(
    name: "drctl",
    products: [
        .executable(name: "drctl", targets: ["drctl"]),
        // The lab, its faults, the campaign and the lab's drills: never shipped (make release
        // installs drctl only).
        .executable(name: "drctl-lab", targets: ["drctl-lab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // The agent's daemon shape: services started and shut down gracefully together.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // The agent's small HTTP API. FlyingFox is async/await over BSD sockets, with no
        // SwiftNIO: the whole build stays within seconds of what it was (Hummingbird, on
        // NIO, adds minutes to every CI run for five GET endpoints).
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.0"),
    ],
    targets: [
        // System libraries: the reference C clients, already installed with PostgreSQL.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // zstd for the WAL archive (base backups are compressed by pg_basebackup itself).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // Functional core: values and pure decisions, no I/O.
        .target(name: "DRCore", dependencies: [.product(name: "Yams", package: "Yams")]),

        // Imperative shells.
        .target(name: "DRPostgres", dependencies: ["DRCore", "CLibPQ"]),
        .target(name: "DRHTTP", dependencies: ["DRCore", "CCurl"]),
        .target(name: "DRCoordination", dependencies: ["DRCore", "DRHTTP", "DRSystem"]),
        // glibc calls hidden behind _GNU_SOURCE (close-on-exec pipes, closefrom in spawn,
        // pidfd): compiled C, so the feature macro never reaches a Swift-visible header.
        .target(name: "CSpawn"),
        .target(name: "DRSystem", dependencies: ["CSpawn", "DRCore"]),
        .target(name: "DRCrypto", dependencies: ["CCrypto", "DRCore"]),
        .target(name: "DRBackup", dependencies: ["DRCore", "DRPostgres", "DRSystem", "DRCrypto", "DRHTTP", "CZstd"]),
        .target(name: "DRDrill", dependencies: ["DRCore", "DRBackup", "DRPostgres", "DRCoordination", "DRSystem"]),
        // The randomized fault campaign against a lab (`drctl lab chaos`, `make chaos`).
        .target(name: "DRChaos", dependencies: ["DRCore", "DRLab", "DRPostgres", "DRSystem", "DRCoordination"]),
        // Drills that inject lab faults: the CLI runs them, the agent never links them.
        .target(name: "DRLabDrill", dependencies: ["DRCore", "DRDrill", "DRLab", "DRPostgres", "DRCoordination", "DRBackup", "DRSystem"]),
        .target(name: "DRDNS", dependencies: ["DRCore", "DRHTTP", "DRCrypto", "DRCoordination", "DRSystem"]),
        .target(name: "DRLab", dependencies: ["DRCore", "DRPostgres", "DRSystem", "DRCoordination"], exclude: ["s3-server.py", "notify-server.py", "aws-standin.py"]),
        .target(
            name: "DRAgent",
            dependencies: [
                "DRCore", "DRPostgres", "DRCoordination", "DRHTTP", "DRSystem", "DRCrypto", "DRDNS", "DRBackup", "DRDrill", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "FlyingFox", package: "FlyingFox"),
            ]),

        // What the agent's tests drive it with: a manual clock, an in-memory etcd, a scripted
        // database and a cluster of real agents around them (no servers).
        .target(name: "DRAgentTesting", dependencies: ["DRCore", "DRCoordination", "DRAgent", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "DRLabFleet",
            dependencies: ["DRCore", "DRCoordination", "DRAgent", "DRAgentTesting", "DRLab", "DRSystem", .product(name: "Logging", package: "swift-log")]),

        // What both command lines share: exit codes, --config/--json, output, drill files.
        .target(
            name: "DRCommandLine",
            dependencies: ["DRCore", "DRDrill", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "drctl",
            dependencies: [
                "DRCore", "DRPostgres", "DRSystem", "DRCoordination", "DRAgent", "DRDNS", "DRBackup", "DRDrill", "DRHTTP", "DRCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "drctl-lab",
            dependencies: [
                "DRCore", "DRLab", "DRSystem", "DRDrill", "DRLabDrill", "DRChaos", "DRLabFleet", "DRCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "DRCoreTests", dependencies: ["DRCore"]),
        .testTarget(
            name: "DRAgentTests", dependencies: ["DRCore", "DRCoordination", "DRAgent", "DRAgentTesting", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "DRSystemTests", dependencies: ["DRSystem"]),
        .testTarget(name: "DRBackupTests", dependencies: ["DRCore", "DRBackup", "DRHTTP"]),
        .testTarget(name: "DRDNSTests", dependencies: ["DRCore", "DRDNS", "DRCrypto", "DRHTTP"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "DRCore", "DRPostgres", "DRLab", "DRSystem", "DRHTTP", "DRCoordination", "DRDNS", "DRBackup", "DRChaos", "DRAgent",
                .product(name: "Logging", package: "swift-log"),
            ]),
    ]
)

// Settings every Swift target shares: `any` spelled out for existentials (an existential's
// cost and semantics differ from a generic's, so the code says which it is).
let sharedSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]
for target in package.targets where target.type != .system && target.name != "CSpawn" {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}
