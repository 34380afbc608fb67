import DRCrypto
import Foundation

/// SHA-256 over chunks as they stream by, shared across threads by the streaming reader
/// (one writer at a time).
struct FileDigest: ~Copyable {
    private var hasher = SHA256()

    mutating func update(_ data: Data) { data.withUnsafeBytes { hasher.update(buffer: $0) } }
    mutating func update(_ buffer: UnsafeRawBufferPointer) { hasher.update(buffer: buffer) }
    consuming func finish() -> String { Hex.encode(hasher.finish()) }
}
