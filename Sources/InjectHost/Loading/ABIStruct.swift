/// Reads the C structs a plugin hands over the way the ABI promises: only up to the
/// `struct_size` each declares (its first field), never past it, with every later field zero.
/// A plugin built against an older header hands over a smaller struct; copying ours whole would
/// read past the end of its memory.
enum ABIStruct {
    /// A copy of the struct at `pointer`, or `nil` when its `struct_size` is below `minimum` (the
    /// oldest version's size); `size` is the size it declared.
    static func read<T>(_ pointer: UnsafeRawPointer, as _: T.Type, minimum: UInt32) -> (value: T, size: UInt32)? {
        let declared = pointer.loadUnaligned(as: UInt32.self)
        guard declared >= minimum else { return nil }
        let count = min(Int(declared), MemoryLayout<T>.size)
        let value = withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer -> T in
            let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
            memset(raw, 0, MemoryLayout<T>.size)
            memcpy(raw, pointer, count)
            return buffer.baseAddress!.move()
        }
        return (value, declared)
    }

    /// The struct a plugin's C array holds at `index`, stepping by the elements' own
    /// `struct_size` (the first element's), as the header prescribes.
    static func element<T>(_ base: UnsafeRawPointer, _ index: Int, as type: T.Type, minimum: UInt32) -> (
        value: T, size: UInt32
    )? {
        let stride = Int(base.loadUnaligned(as: UInt32.self))
        guard stride >= Int(minimum) else { return nil }
        return read(base + index * stride, as: type, minimum: minimum)
    }
}
