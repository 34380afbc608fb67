import DRCrypto
import Foundation

/// drctl's encrypted object format, AES-256-GCM in chunks so that a base backup of any size
/// streams through in constant memory and every byte handed on has been authenticated:
///
///     header  (32 bytes)  "DRCTLAE1" | key id, 16 ASCII hex digits | chunk shift (20) | nonce prefix, 7 random bytes
///     chunks              AES-256-GCM(plaintext of 2^shift bytes; the last one shorter) | 16-byte tag
///
/// Chunk i's nonce is the prefix, i as 4 bytes big-endian, then 1 for the last chunk and 0
/// for the others; every chunk authenticates the whole header as additional data. So a
/// chunk moved, dropped or swapped between objects, a stream cut short, a changed key id or
/// any flipped bit fails to open. (The STREAM construction, as age and Tink use it.)
/// `Tests/IntegrationTests/decrypt-drctl.py` reads it with Python's cryptography package.
enum SealedFormat {
    static let magic = Array("DRCTLAE1".utf8)
    static let headerSize = 32
    static let chunkShift: UInt8 = 20
    static let chunkSize = 1 << Int(chunkShift)
    /// A chunk as stored: its bytes and its tag.
    static let sealedChunkSize = chunkSize + AESGCM.tagSize

    static func nonce(prefix: ArraySlice<UInt8>, counter: UInt32, last: Bool) -> [UInt8] {
        Array(prefix) + [UInt8(counter >> 24), UInt8(counter >> 16 & 0xFF), UInt8(counter >> 8 & 0xFF), UInt8(counter & 0xFF), last ? 1 : 0]
    }

    /// Whether `data` begins as a sealed object does.
    static func isSealed(_ data: Data) -> Bool { data.count >= headerSize && Array(data.prefix(magic.count)) == magic }
}

/// Seals a stream: plaintext in, in pieces of any size, sealed bytes out (used by one
/// thread at a time: a backup's reader thread, or a WAL push).
final class StreamSealer: @unchecked Sendable {
    private let key: BackupKey
    private let header: [UInt8]
    private var pending: [UInt8] = []
    private var counter: UInt32 = 0
    private var headerWritten = false

    init(key: BackupKey) throws {
        self.key = key
        guard let prefix = SecureRandom.bytes(7) else { throw BackupError.refused("no random bytes for a nonce: the system's random source failed") }
        header = SealedFormat.magic + Array(key.id.utf8) + [SealedFormat.chunkShift] + prefix
        precondition(header.count == SealedFormat.headerSize)
        pending.reserveCapacity(SealedFormat.chunkSize * 2)
    }

    /// Sealed bytes ready to store: the header first, then each chunk filled so far. A
    /// full chunk is held back until more comes, so the last one is never empty unless
    /// the whole stream is.
    func update(_ plaintext: UnsafeRawBufferPointer) throws -> [UInt8] {
        pending.append(contentsOf: plaintext)
        var out = takeHeader()
        var start = 0
        while pending.count - start > SealedFormat.chunkSize {
            out += try sealChunk(pending[start..<start + SealedFormat.chunkSize], last: false)
            start += SealedFormat.chunkSize
        }
        if start > 0 { pending.removeSubrange(0..<start) }
        return out
    }

    /// The last chunk (and the header, for an empty stream).
    func finish() throws -> [UInt8] {
        let out = takeHeader() + (try sealChunk(pending[...], last: true))
        pending = []
        return out
    }

    /// A whole object at once (a WAL segment).
    static func seal(_ data: Data, key: BackupKey) throws -> Data {
        let sealer = try StreamSealer(key: key)
        var out = try data.withUnsafeBytes { try sealer.update($0) }
        out += try sealer.finish()
        return Data(out)
    }

    private func takeHeader() -> [UInt8] {
        guard !headerWritten else { return [] }
        headerWritten = true
        return header
    }

    private func sealChunk(_ chunk: ArraySlice<UInt8>, last: Bool) throws -> [UInt8] {
        guard counter < UInt32.max else { throw BackupError.refused("a sealed object cannot exceed 4 PiB") }
        let nonce = SealedFormat.nonce(prefix: header[25...], counter: counter, last: last)
        counter += 1
        return try chunk.withUnsafeBytes { try AESGCM.seal($0, key: key.bytes, nonce: nonce, aad: header) }
    }
}

/// Opens a sealed stream: sealed bytes in, authenticated plaintext out. The key is found
/// by the id in the header. A chunk is released only after its tag matched; `finish`
/// throws if the stream ended anywhere but after its last chunk.
final class StreamOpener: @unchecked Sendable {
    private let keyring: BackupKeyring
    private let what: String
    private var header: [UInt8]?
    private var key: BackupKey?
    private var pending: [UInt8] = []
    private var counter: UInt32 = 0

    /// - Parameter what: the object, for errors.
    init(keyring: BackupKeyring, what: String) {
        self.keyring = keyring
        self.what = what
    }

    func update(_ sealed: UnsafeRawBufferPointer) throws -> [UInt8] {
        pending.append(contentsOf: sealed)
        try readHeader()
        guard header != nil else { return [] }
        var out: [UInt8] = []
        var start = 0
        // A whole chunk is known not to be the last only once more bytes follow it.
        while pending.count - start > SealedFormat.sealedChunkSize {
            out += try openChunk(pending[start..<start + SealedFormat.sealedChunkSize], last: false)
            start += SealedFormat.sealedChunkSize
        }
        if start > 0 { pending.removeSubrange(0..<start) }
        return out
    }

    func finish() throws -> [UInt8] {
        try readHeader()
        guard header != nil else { throw BackupError.unauthentic(what: what, detail: "it ends inside its header (\(pending.count) bytes)") }
        let out = try openChunk(pending[...], last: true)
        pending = []
        return out
    }

    /// A whole object at once.
    static func open(_ data: Data, keyring: BackupKeyring, what: String) throws -> Data {
        let opener = StreamOpener(keyring: keyring, what: what)
        var out = try data.withUnsafeBytes { try opener.update($0) }
        out += try opener.finish()
        return Data(out)
    }

    private func readHeader() throws {
        guard header == nil, pending.count >= SealedFormat.headerSize else { return }
        let found = Array(pending[0..<SealedFormat.headerSize])
        guard Array(found[0..<8]) == SealedFormat.magic else {
            throw BackupError.unauthentic(what: what, detail: "it does not begin as drctl's encrypted format does")
        }
        guard found[24] == SealedFormat.chunkShift else { throw BackupError.unauthentic(what: what, detail: "unknown chunk size 2^\(found[24])") }
        key = try keyring.key(id: String(decoding: found[8..<24], as: UTF8.self), for: what)
        header = found
        pending.removeSubrange(0..<SealedFormat.headerSize)
    }

    private func openChunk(_ chunk: ArraySlice<UInt8>, last: Bool) throws -> [UInt8] {
        guard let header, let key else { throw BackupError.unauthentic(what: what, detail: "no header") }
        let nonce = SealedFormat.nonce(prefix: header[25...], counter: counter, last: last)
        do {
            let plain = try chunk.withUnsafeBytes { try AESGCM.open($0, key: key.bytes, nonce: nonce, aad: header) }
            counter += 1
            return plain
        } catch {
            let place = last ? "its end (chunk \(counter); cut short, or a chunk damaged)" : "chunk \(counter)"
            throw BackupError.unauthentic(what: what, detail: "\(place) does not authenticate under backup key \(key.id)")
        }
    }
}
