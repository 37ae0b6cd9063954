import InjectHost
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The guest kernel: an installed Debian kernel when there is one, else the package behind
/// `linux-image-amd64`, fetched with `apt-get download` and unpacked with `dpkg-deb -x` into the
/// cache (no root needed).
public struct KernelAssets: Sendable, Equatable {
    /// The kernel release, such as `6.1.0-56-amd64`.
    public var release: String
    /// The kernel image.
    public var image: FilePath
    /// `lib/modules/RELEASE`.
    public var modules: FilePath
    /// Where it came from, for `lab status`.
    public var origin: String

    /// The metapackage that names the current stock kernel.
    public static let metapackage = "linux-image-amd64"

    /// Finds or fetches the kernel.
    ///
    /// - Parameters:
    ///   - cache: the cache directory (``LabPaths/cacheBase(_:)``).
    ///   - progress: told what is happening (downloads take a few seconds).
    public static func locate(cache: FilePath, progress: (String) -> Void) async throws(LabError) -> KernelAssets {
        if let installed = installed() { return installed }
        if let cached = cached(cache.appending("kernel")) { return cached }
        return try await fetch(into: cache.appending("kernel"), progress: progress)
    }

    /// An installed kernel with its modules: the running one first, then the newest.
    static func installed() -> KernelAssets? {
        var uts = utsname()
        uname(&uts)
        let running = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let boot = (try? AttributeFiles.listDirectory("/boot")) ?? []
        let releases = boot.map(\.name).filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst(8)) }
        for release in [running] + releases.sorted(by: >) where releases.contains(release) {
            let image = FilePath("/boot/vmlinuz-\(release)")
            let modules = FilePath("/lib/modules/\(release)")
            if access(image.string, R_OK) == 0, access(modules.appending("kernel").string, R_OK) == 0 {
                return KernelAssets(release: release, image: image, modules: modules, origin: "installed (\(image))")
            }
        }
        return nil
    }

    /// The newest unpacked package in the cache.
    static func cached(_ directory: FilePath) -> KernelAssets? {
        let packages = ((try? AttributeFiles.listDirectory(directory)) ?? []).filter { $0.isDirectory && !$0.name.hasSuffix(".partial") }
        for package in packages.map(\.name).sorted(by: >) {
            let root = directory.appending(package)
            let releases = ((try? AttributeFiles.listDirectory(root.appending("lib/modules"))) ?? []).map(\.name)
            if let release = releases.first, access(root.appending("boot/vmlinuz-\(release)").string, R_OK) == 0 {
                return KernelAssets(release: release, image: root.appending("boot/vmlinuz-\(release)"),
                                    modules: root.appending("lib/modules/\(release)"), origin: "Debian package \(package) (cached in \(root))")
            }
        }
        return nil
    }

    /// Downloads and unpacks the package `linux-image-amd64` depends on.
    static func fetch(into directory: FilePath, progress: (String) -> Void) async throws(LabError) -> KernelAssets {
        let depends: String
        do {
            depends = try await ToolRunner.run(["apt-cache", "depends", metapackage]).output
        } catch {
            throw .kernel("cannot ask apt which kernel \(metapackage) means: \(error)")
        }
        guard let package = depends.split(separator: "\n").compactMap({ line -> String? in
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmed() }
            return parts.count == 2 && parts[0] == "Depends" && parts[1].hasPrefix("linux-image-") ? parts[1] : nil
        }).first else {
            throw .kernel("`apt-cache depends \(metapackage)` names no linux-image package; run `apt-get update`")
        }
        let partial = directory.appending("\(package).partial")
        let final = directory.appending(package)
        progress("fetching the guest kernel \(package) with apt-get download")
        do {
            try LabFileSystem.removeTree(partial)
            try LabFileSystem.makeDirectories(partial)
            _ = try await ToolRunner.run(["apt-get", "download", package], hint: "apt-get update may help", workingDirectory: partial)
            guard let deb = try AttributeFiles.listDirectory(partial).map(\.name).first(where: { $0.hasSuffix(".deb") }) else {
                throw LabError.kernel("apt-get download \(package) left no .deb in \(partial)")
            }
            progress("unpacking \(deb)")
            _ = try await ToolRunner.run(["dpkg-deb", "-x", partial.appending(deb).string, partial.string])
            try LabFileSystem.remove(partial.appending(deb))
            try LabFileSystem.removeTree(final)
            try LabFileSystem.rename(partial, to: final)
        } catch let error as LabError {
            throw error
        } catch {
            throw .kernel("\(error)")
        }
        guard let assets = cached(directory) else { throw .kernel("\(final) holds no boot/vmlinuz-* with lib/modules") }
        return assets
    }
}
