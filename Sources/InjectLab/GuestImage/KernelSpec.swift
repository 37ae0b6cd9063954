/// Which kernel a lab boots, as the user names it with `inject lab up --kernel SPEC`.
public enum KernelSpec: Sendable, Equatable, CustomStringConvertible {
    /// The machine's own Debian kernel: an installed one, else `linux-image-amd64` from the
    /// machine's apt sources.
    case stock
    /// `linux-image-amd64` of a Debian suite reached through a private apt configuration
    /// (`bookworm`, `bookworm-backports`, `trixie`).
    case suite(String)
    /// An exact Debian package, such as `linux-image-6.12.95+deb12-amd64`: from the machine's
    /// sources when they have it, else from the private suites.
    case package(String)
    /// A kernel on disk: an unpacked tree (`boot/vmlinuz-RELEASE` and `lib/modules/RELEASE`) or
    /// a `vmlinuz-RELEASE` file whose modules are in `lib/modules/RELEASE` beside its `boot`
    /// directory or under `/lib/modules`.
    case path(FilePath)

    /// The spelling `lab up` takes when none is given.
    public static let defaultSpelling = "bookworm-backports"

    /// Parses `text`.
    ///
    /// - Throws: ``LabError/kernel(_:)`` naming the allowed forms.
    public init(parsing text: String) throws(LabError) {
        let value = text.trimmed()
        if value == "stock" || value == "installed" {
            self = .stock
        } else if DebianArchive.suites.contains(value) {
            self = .suite(value)
        } else if value.hasPrefix("linux-image-"), value.utf8.allSatisfy(Self.isPackageCharacter) {
            self = .package(value)
        } else if value.hasPrefix("/") || value.hasPrefix("./") || value.hasPrefix("../") {
            self = .path(FilePath(value))
        } else {
            throw .kernel(
                "\(Setting.kernel.named("'\(text)'")) is not a kernel: use stock, \(DebianArchive.suites.joined(separator: ", ")), a Debian package such as linux-image-6.12.95+deb12-amd64, or a path (/..., ./...) to an unpacked kernel tree or a vmlinuz file"
            )
        }
    }

    /// The spelling, as `--kernel` takes it.
    public var description: String {
        switch self {
        case .stock: return "stock"
        case .suite(let suite): return suite
        case .package(let package): return package
        case .path(let path): return path.string
        }
    }

    /// Debian package names: lower-case letters, digits, `+ - .`.
    private static func isPackageCharacter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }
}
