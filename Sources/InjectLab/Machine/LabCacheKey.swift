import InjectHost

/// Names for cached lab assets derived from what shapes them, so that a change of any input makes
/// a new cache entry instead of reusing a stale one.
enum LabCacheKey {
    /// A 64-bit FNV-1a digest of `text`, as 16 hex digits.
    static func digest(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hexText(hash)
    }
}
