import CCrypto

/// Bytes from OpenSSL's CSPRNG (seeded by the kernel): nonces, never keys' material alone.
public enum SecureRandom {
    /// `count` random bytes; nil only when the generator cannot be seeded.
    public static func bytes(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        return RAND_bytes(&out, Int32(count)) == 1 ? out : nil
    }
}
