// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "AgentGrid",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "agentgrid", targets: ["AgentGridCLI"]),
        .executable(name: "agentgrid-runner", targets: ["Runner"]),
        .library(name: "Sandbox", targets: ["Sandbox"]),
        .executable(name: "agentgrid-bench", targets: ["SandboxBench"]),
        .executable(name: "agentgrid-runner-bench", targets: ["RunnerBench"]),
        .executable(name: "agentgrid-e2e-bench", targets: ["E2EBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.0"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
    ],
    targets: [
        // The child side of clone(): async-signal-safe C that runs between clone and execve.
        .target(
            name: "CSandbox",
            cSettings: [.unsafeFlags(["-O2", "-Wall", "-Wextra", "-Werror"])],
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("cap")]
        ),
        .target(
            name: "Sandbox",
            dependencies: ["CSandbox", .product(name: "Yams", package: "Yams")]
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // Agent bundles: a .tar.gz with a manifest, read and unpacked under hostile-archive rules.
        .target(
            name: "AgentBundle",
            dependencies: ["CZlib", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Yams", package: "Yams")]
        ),
        // A strict JSON parser and writer that keep numbers' exact text: the API's bodies and the
        // runner protocol's frames.
        .target(name: "JSONCore"),
        // The runner protocol's wire types and framing, shared by the runner and the control plane.
        .target(
            name: "RunnerProtocol",
            dependencies: ["JSONCore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .executableTarget(
            name: "Runner",
            dependencies: [
                "Sandbox", "RunnerProtocol", "AgentBundle",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The control plane: HTTP API, domain rules, store, auth. A library so tests drive it in-process
        // over real HTTP; `agentgrid` is its command line.
        .target(
            name: "ControlPlane",
            dependencies: [
                "JSONCore", "RunnerProtocol", "AgentBundle", "Sandbox", "CMalloc", .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(name: "AgentGridCLI", dependencies: ["ControlPlane"]),
        // `make bench`: spawn latency beside bare fork+exec and bubblewrap.
        .target(name: "BenchSupport", dependencies: ["RunnerProtocol"]),
        .executableTarget(name: "SandboxBench", dependencies: ["Sandbox", "BenchSupport"]),
        // `make bench-runner`: submit-to-finished through the daemon beside the spawn itself.
        .executableTarget(name: "RunnerBench", dependencies: ["Sandbox", "RunnerProtocol", "BenchSupport"]),
        // `make bench-e2e`: submit-to-completed through the API beside the runner's own figures.
        .executableTarget(
            name: "E2EBench",
            dependencies: ["RunnerProtocol", "BenchSupport", "JSONCore", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        // Probe/ holds the C attack program the containment tests compile and run inside.
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox"], exclude: ["Probe"]),
        .testTarget(name: "RunnerTests", dependencies: ["Sandbox", "RunnerProtocol", "AgentBundle"]),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: ["ControlPlane", "JSONCore", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
    ]
)
