import CCrypto

/// AES-256-GCM over libcrypto, one message at a time: a 32-byte key, a 12-byte nonce that
/// must never repeat under one key, additional data that is authenticated but not
/// encrypted, and a 16-byte tag appended to the ciphertext.
public enum AESGCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The ciphertext followed by its tag.
    public static func seal(_ plaintext: UnsafeRawBufferPointer, key: [UInt8], nonce: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        try run(encrypt: true, plaintext, key: key, nonce: nonce, aad: aad)
    }

    /// The plaintext of `sealed` (ciphertext then tag); throws when the tag does not match:
    /// the bytes, the nonce, the additional data or the key differ from the sealing's.
    public static func open(_ sealed: UnsafeRawBufferPointer, key: [UInt8], nonce: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        guard sealed.count >= tagSize else { throw Failure(description: "shorter than its tag") }
        return try run(encrypt: false, sealed, key: key, nonce: nonce, aad: aad)
    }

    private static func run(encrypt: Bool, _ input: UnsafeRawBufferPointer, key: [UInt8], nonce: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        guard key.count == keySize, nonce.count == nonceSize else { throw Failure(description: "a key of \(keySize) bytes and a nonce of \(nonceSize) are needed") }
        guard let context = EVP_CIPHER_CTX_new() else { throw Failure(description: "out of memory") }
        defer { EVP_CIPHER_CTX_free(context) }
        let body = encrypt ? input.count : input.count - tagSize
        var output = [UInt8](repeating: 0, count: body + (encrypt ? tagSize : 0) + 16)
        var length: Int32 = 0
        var total = 0
        let ok: Bool = output.withUnsafeMutableBufferPointer { out in
            let init1 = encrypt ? EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) : EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce)
            guard init1 == 1 else { return false }
            if !aad.isEmpty {
                let added = encrypt ? EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) : EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count))
                guard added == 1 else { return false }
            }
            let source = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
            if body > 0 {
                let updated = encrypt ? EVP_EncryptUpdate(context, out.baseAddress, &length, source, Int32(body)) : EVP_DecryptUpdate(context, out.baseAddress, &length, source, Int32(body))
                guard updated == 1 else { return false }
                total = Int(length)
            }
            if encrypt {
                guard EVP_EncryptFinal_ex(context, out.baseAddress! + total, &length) == 1 else { return false }
                total += Int(length)
                guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagSize), out.baseAddress! + total) == 1 else { return false }
                total += tagSize
                return true
            }
            var tag = Array(input[body...])
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagSize), &tag) == 1 else { return false }
            guard EVP_DecryptFinal_ex(context, out.baseAddress! + total, &length) == 1 else { return false }
            total += Int(length)
            return true
        }
        guard ok else { throw Failure(description: encrypt ? "AES-256-GCM sealing failed" : "authentication failed: the bytes are not what was sealed with this key") }
        output.removeSubrange(total...)
        return output
    }
}
