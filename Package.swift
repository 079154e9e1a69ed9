// swift-tools-version:6.1
// SPDX-License-Identifier: Apache-2.0
//
// ium — Isolated User Mode for Linux. The modules and what each may import are in
// docs/ARCHITECTURE.md; Tests/architecture/check_imports.py (make test) fails when this file,
// the sources' imports and that table disagree. C modules live under CModules/ (`path:`).

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "ium",
    products: [
        .executable(name: "ium", targets: ["ium"]),
        .executable(name: "iumd", targets: ["iumd"]),
        .executable(name: "ium-keyd", targets: ["ium-keyd"]),
        .library(name: "NTModel", targets: ["NTModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // Pure NT semantics: types, layouts, the query procedure, handle tables. No I/O.
        .target(name: "NTModel", swiftSettings: swiftSettings),

        // Raw Linux syscalls Swift cannot call directly (variadic `syscall`, per-thread creds).
        .target(name: "CLinuxShims", path: "CModules/CLinuxShims", cSettings: [.headerSearchPath("../IUMWire/include")]),
        .systemLibrary(name: "IUMWire", path: "CModules/IUMWire/include"),

        // The one Linux edge: every syscall, raw pointer and C shim the Swift modules use, typed
        // (swift-system's Errno and FileDescriptor where they fit).
        .target(
            name: "LinuxEdge",
            dependencies: ["CLinuxShims", "GuardABI", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: swiftSettings
        ),

        // Linux process records read from /proc and the kernel, with the NT Flags analogs.
        .target(
            name: "ProcessTable",
            dependencies: ["NTModel", "LinuxEdge", "GuardABI", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: swiftSettings
        ),

        // NT handles and calls over real processes: one caller's session (NtOpenProcess,
        // NtQueryInformationProcess, NtClose) on ProcessTable's process objects.
        .target(name: "NTSession", dependencies: ["NTModel", "ProcessTable"], swiftSettings: swiftSettings),

        // libbpf (Debian: libbpf-dev), and the structs shared with the BPF programs.
        .systemLibrary(
            name: "CLibbpf", path: "CModules/CLibbpf", pkgConfig: "libbpf", providers: [.apt(["libbpf-dev"])]),
        .systemLibrary(name: "GuardABI", path: "CModules/GuardABI/include"),
        // The guard's two BPF objects, embedded through bpftool's skeletons (make bpf generates them).
        .target(name: "GuardSkeleton", dependencies: ["CLibbpf", "GuardABI"], path: "CModules/GuardSkeleton",
                cSettings: [.headerSearchPath("../GuardABI/include")]),

        // Loads, attaches and pins the BPF guard; tags processes; streams kernel events.
        .target(
            name: "KernelGuard",
            dependencies: ["CLibbpf", "GuardABI", "GuardSkeleton", "LinuxEdge", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: swiftSettings
        ),

        // The client <-> daemon wire format.
        .target(name: "IUMProtocol", dependencies: ["NTModel", "IUMWire"], swiftSettings: swiftSettings),

        // iumd: the request server, the event-fed process table, the audit store.
        .target(
            name: "IUMDaemon",
            dependencies: [
                "NTModel", "ProcessTable", "NTSession", "KernelGuard", "IUMProtocol", "LinuxEdge", "GuardABI",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "iumd", dependencies: ["IUMDaemon"], swiftSettings: swiftSettings),

        // The Swift client of iumd.
        .target(name: "IUMClient", dependencies: ["IUMProtocol", "NTModel", "LinuxEdge", "GuardABI", .product(name: "SystemPackage", package: "swift-system")],
                swiftSettings: swiftSettings),

        // The C ABI: ntddk.h (WDK-compatible types) and the C client library.
        .target(name: "libium", path: "CModules/libium",
                cSettings: [.headerSearchPath("../GuardABI/include"), .headerSearchPath("../IUMWire/include")]),

        // CLI commands as a library so tests can drive them.
        .target(
            name: "IUMCommands",
            dependencies: [
                "NTModel", "IUMClient", "IUMProtocol", "LinuxEdge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ium",
            dependencies: ["IUMCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),

        // The reference trustlet: an Ed25519 key in secret memory, signing for allowed peers.
        .executableTarget(
            name: "ium-keyd",
            dependencies: [
                "IUMClient", "NTModel", "LinuxEdge", .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // Helpers shared by the test targets: real child processes and C fixtures.
        .target(name: "TestSupport", dependencies: ["ProcessTable"], path: "Tests/TestSupport", swiftSettings: swiftSettings),

        .testTarget(name: "NTModelTests", dependencies: ["NTModel"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProcessTableTests",
            dependencies: ["ProcessTable", "NTSession", "NTModel", "TestSupport", "GuardABI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KernelGuardTests",
            dependencies: ["KernelGuard", "TestSupport", "GuardABI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "IUMProtocolTests", dependencies: ["IUMProtocol", "NTModel", "IUMWire"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IUMDaemonTests",
            dependencies: ["IUMDaemon", "IUMClient", "IUMProtocol", "NTModel", "ProcessTable", "KernelGuard", "TestSupport", "GuardABI", "LinuxEdge"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "LinuxEdgeTests", dependencies: ["LinuxEdge", .product(name: "SystemPackage", package: "swift-system")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "CABITests", dependencies: ["libium", "NTModel", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IUMCommandsTests",
            dependencies: ["IUMCommands", "NTModel", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
