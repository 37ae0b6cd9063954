// swift-tools-version: 6.2
import PackageDescription

/// The six backends we ship; each is a `.dynamic` library that the host finds and dlopen()s.
let backends = ["MCE", "GHES", "EDAC", "NMI", "AER", "CXL"]

let package = Package(
    name: "inject",
    products: [
        .executable(name: "inject", targets: ["inject"]),
        .library(name: "InjectHost", targets: ["InjectHost"]),
        .library(name: "InjectPluginAPI", targets: ["InjectPluginAPI"]),
        .library(name: "InjectPluginTesting", targets: ["InjectPluginTesting"]),
    ] + backends.map { .library(name: "Inject\($0)", type: .dynamic, targets: ["Inject\($0)"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // No traits: their JSON provider and Foundation conveniences would load full Foundation and
        // its ICU data at every start (we decode JSON with FoundationEssentials instead).
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: []),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2", traits: []),
        // `swift package generate-documentation --target InjectPluginAPI` (DocC for plugin authors).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The C ABI: one header, the whole contract between host and plugin binaries.
        .target(name: "InjectPluginABI", path: "Sources/InjectPluginABI"),
        // openat2(2), which glibc does not wrap: paths beneath --root cannot leave it.
        .target(name: "CSystemShims", path: "Sources/CSystemShims"),
        // libffi, for vendor libraries described by a manifest instead of compiled against our header.
        .systemLibrary(name: "CLibFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
        // The system layer, in two parts as NIOCore and NIOPosix are: text (hex, numbers, escaping;
        // pure Swift, shared with the firmware formats and so with the backends), and below the host
        // the platform itself (the C library imported in one file, files beneath a root, clocks,
        // standard error, the unix-socket, QMP, IPMI and subprocess clients).
        .target(name: "InjectText"),
        .target(
            name: "InjectSystem",
            dependencies: [
                "InjectText",
                "CSystemShims",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        // Firmware formats: CPER records (UEFI appendix N), ACPI tables (HEST, EINJ), one
        // little-endian byte codec, numbers and PCI addresses as the kernel prints them. Each
        // format is built and parsed by the same code; used by the lab, the backends and `inject decode`.
        .target(name: "FirmwareFormats", dependencies: ["InjectText"]),
        // The Swift SDK for plugin authors: compiled into each plugin, never shared at run time.
        .target(name: "InjectPluginAPI", dependencies: ["InjectPluginABI"]),
        // Test doubles for plugin authors: a target in memory, so probe and plan are unit-tested
        // without a host (swift-nio ships NIOEmbedded the same way).
        .target(name: "InjectPluginTesting", dependencies: ["InjectPluginAPI", "InjectPluginABI"]),
        // The host: registry, loader, configuration, targets and transports, executor.
        .target(
            name: "InjectHost",
            dependencies: [
                "InjectPluginABI",
                "InjectSystem",
                "CLibFFI",
                "CSystemShims",
                .product(name: "Configuration", package: "swift-configuration"),
            ]
        ),
        // The lab: a firmware-first RAS machine in QEMU (machine, guest image, firmware, agent). It
        // builds on the host; the host never imports it and sees a guest only as a GuestConnection.
        .target(name: "InjectLab", dependencies: ["InjectHost", "InjectSystem", "FirmwareFormats", "CSystemShims"]),
        // The command-line tool: argument parsing and output only; it wires the lab to the host.
        .executableTarget(
            name: "inject",
            dependencies: [
                "InjectSystem",
                "InjectHost",
                "InjectLab",
                "FirmwareFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmark floors (Benchmarks/cold-list.sh): the same command tree in swift-argument-parser
        // with nothing behind it, and a Swift executable that does nothing.
        .executableTarget(
            name: "cli-floor", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/CLIFloor"),
        .executableTarget(name: "empty-swift", path: "Benchmarks/EmptySwift"),
        // Shared test helpers: products directory, temporary trees, C fixture builds, CLI runs.
        .target(name: "InjectTestSupport", dependencies: ["InjectHost"], path: "Tests/InjectTestSupport"),
        .testTarget(name: "InjectHostTests", dependencies: ["InjectHost", "InjectTestSupport"]),
        .testTarget(name: "InjectSystemTests", dependencies: ["InjectSystem", "InjectTestSupport"]),
        .testTarget(name: "InjectPluginAPITests", dependencies: ["InjectPluginAPI"]),
        .testTarget(name: "FirmwareFormatsTests", dependencies: ["FirmwareFormats", "InjectTestSupport"]),
        .testTarget(name: "InjectLabTests", dependencies: ["InjectLab", "FirmwareFormats", "InjectTestSupport"]),
        .testTarget(
            name: "EndToEndTests", dependencies: ["InjectHost", "InjectLab", "FirmwareFormats", "InjectTestSupport"]),
    ]
        + backends.flatMap { name -> [Target] in
            // Each backend is a kit (its knowledge, unit-tested on its own) and an entry (the one
            // exported symbol) linked into the .so: the kits share one test binary, entries could not.
            let formats: [Target.Dependency] = name == "NMI" ? [] : ["FirmwareFormats"]
            let kit = Target.target(
                name: "\(name)Kit", dependencies: ["InjectPluginAPI"] + formats, path: "Plugins/\(name)/Kit")
            let entry = Target.target(
                name: "Inject\(name)", dependencies: [.target(name: "\(name)Kit"), "InjectPluginAPI"],
                path: "Plugins/\(name)/Entry")
            let tests = Target.testTarget(
                name: "\(name)KitTests",
                dependencies: [.target(name: "\(name)Kit"), "InjectPluginTesting", "InjectTestSupport"],
                path: "Tests/PluginTests/\(name)")
            return [kit, entry, tests]
        }
)
