import FirmwareFormats
import InjectHost

/// The lab's firmware memory window: a megabyte of guest RAM that the kernel is told to leave
/// alone (`memmap=1M$0x10000000`), holding one Error Status Address register and one Generic
/// Error Status Block per GHES error source. The host writes records into the blocks through the
/// shared guest RAM file; the HEST table tells the kernel where they are.
public struct FirmwareLayout: Sendable, Equatable {
    /// How the kernel learns that a source has a record.
    public typealias Notification = HEST.NotificationType

    /// One GHES error source.
    public struct Source: Sendable, Equatable, Codable {
        /// The HEST source id.
        public var id: UInt16
        /// How it is notified.
        public var notification: Notification
        /// The poll interval for polled sources, in milliseconds.
        public var pollIntervalMilliseconds: UInt32
        /// The guest-physical address of the Error Status Address register (holds `blockAddress`).
        public var registerAddress: UInt64
        /// The guest-physical address of the Generic Error Status Block.
        public var blockAddress: UInt64
        /// The block's length in bytes.
        public var blockLength: UInt32
    }

    /// The window's guest-physical base.
    public var base: UInt64
    /// The window's size in bytes.
    public var size: UInt64
    /// The sources, in HEST order.
    public var sources: [Source]
    /// The EINJ firmware's registers (at 960 KiB into the window).
    public var einj: EINJRegisters

    /// The kernel argument that keeps the kernel off the window.
    public var kernelArgument: String {
        "memmap=\(size >> 20)M$0x" + hexText(base)
    }

    /// The lab's layout: a polled source (id 0, 100 ms), an NMI source (id 1) and an SCI source
    /// (id 2), each with a 4 KiB block, at 256 MiB.
    public static let lab = FirmwareLayout(base: 0x1000_0000, size: 0x10_0000, notifications: [.polled, .nmi, .sci])

    /// A layout with one source per notification, registers at the start of the window and one
    /// 4 KiB block per source after them.
    public init(base: UInt64, size: UInt64, notifications: [Notification]) {
        self.base = base
        self.size = size
        einj = EINJRegisters(base: base + 0xF_0000)
        sources = notifications.enumerated().map { index, notification in
            Source(
                id: UInt16(index), notification: notification,
                pollIntervalMilliseconds: notification == .polled ? 100 : 0,
                registerAddress: base + UInt64(index) * 8,
                blockAddress: base + 0x1000 * UInt64(index + 1), blockLength: 0x1000)
        }
    }

    /// The HEST table that declares the sources to the guest.
    public var hest: HEST {
        HEST(
            sources: sources.map { source in
                .ghes(
                    id: source.id,
                    HEST.GenericSource(
                        register: source.registerAddress, blockLength: source.blockLength,
                        notification: HEST.Notification(
                            source.notification, pollIntervalMilliseconds: source.pollIntervalMilliseconds)))
            })
    }

    /// The bytes to place before the guest boots: each GHES register holds its block's address
    /// (little-endian), every block starts empty, and the EINJ registers offer `einjTypes`.
    public func initialContents(einjTypes: UInt32) -> [(address: UInt64, bytes: [UInt8])] {
        sources.flatMap { source -> [(address: UInt64, bytes: [UInt8])] in
            var pointer = ByteWriter()
            pointer.put(source.blockAddress)
            return [
                (source.registerAddress, pointer.bytes),
                (source.blockAddress, [UInt8](repeating: 0, count: Int(source.blockLength))),
            ]
        } + einj.initialContents(types: einjTypes)
    }

    /// The source a record of `severity` goes to: corrected ones are polled, the rest raise an NMI.
    public func source(forCorrected corrected: Bool) -> Source? {
        sources.first { $0.notification == (corrected ? .polled : .nmi) }
    }
}
