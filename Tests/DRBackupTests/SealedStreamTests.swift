import DRCore
import Foundation
import Testing

@testable import DRBackup

/// Client-side encryption (issue 27): drctl's sealed format round-trips any size fed in any
/// pieces, opens only what it sealed, under the key that sealed it, and is read the same by
/// an independent implementation (Python's cryptography, `scripts/decrypt-backup.py`).
@Suite struct SealedStreamTests {
    static let keyHex = String(repeating: "0123456789abcdef", count: 4)
    static let key = BackupKey(bytes: (0..<32).map { UInt8($0) })
    static let other = BackupKey(bytes: (0..<32).map { UInt8(255 - $0) })
    static let chunk = SealedFormat.chunkSize

    static func bytes(_ count: Int) -> Data { Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }) }

    /// Feeds `data` through a sealer (and sealed bytes through an opener) in pieces of
    /// `piece` bytes, as streams arrive.
    static func sealInPieces(_ data: Data, piece: Int) throws -> Data {
        let sealer = try StreamSealer(key: key)
        var out: [UInt8] = []
        for start in stride(from: 0, to: data.count, by: piece) {
            out += try data[start..<min(start + piece, data.count)].withUnsafeBytes { try sealer.update($0) }
        }
        return Data(out + (try sealer.finish()))
    }

    static func openInPieces(_ sealed: Data, keyring: BackupKeyring, piece: Int) throws -> Data {
        let opener = StreamOpener(keyring: keyring, what: "test object")
        var out: [UInt8] = []
        for start in stride(from: 0, to: sealed.count, by: piece) {
            out += try sealed[start..<min(start + piece, sealed.count)].withUnsafeBytes { try opener.update($0) }
        }
        return Data(out + (try opener.finish()))
    }

    @Test(arguments: [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 17])
    func everySizeRoundTripsInAnyPieces(size: Int) throws {
        let data = Self.bytes(size)
        for (inPiece, outPiece) in [(size + 1, size + 100), (65_536, 7_000), (Self.chunk + 16, 1 << 20)] {
            let sealed = try Self.sealInPieces(data, piece: max(inPiece, 1))
            let chunks = max(1, (size + Self.chunk - 1) / Self.chunk)
            #expect(sealed.count == SealedFormat.headerSize + size + 16 * chunks)
            #expect(try Self.openInPieces(sealed, keyring: BackupKeyring(current: Self.key), piece: max(outPiece, 1)) == data)
        }
    }

    @Test func aSealedObjectHidesItsBytesAndNeverRepeatsItsNonces() throws {
        let data = Data(repeating: 0x41, count: 10_000)
        let first = try StreamSealer.seal(data, key: Self.key)
        let second = try StreamSealer.seal(data, key: Self.key)
        #expect(first != second, "a fresh nonce prefix per object")
        #expect(first.range(of: Data(repeating: 0x41, count: 64)) == nil)
        #expect(String(decoding: first[8..<24], as: UTF8.self) == Self.key.id)
    }

    /// Every way the stored bytes can go wrong is refused as damage, never handed on.
    @Test func damageTruncationAndReorderingFailToOpen() throws {
        let keyring = BackupKeyring(current: Self.key)
        let sealed = try StreamSealer.seal(Self.bytes(3 * Self.chunk + 5), key: Self.key)
        var flipped = sealed
        flipped[SealedFormat.headerSize + Self.chunk + 3] ^= 0x01
        let oneChunk = SealedFormat.sealedChunkSize
        let header = sealed.prefix(SealedFormat.headerSize)
        let body = sealed.dropFirst(SealedFormat.headerSize)
        let chunks = stride(from: body.startIndex, to: body.endIndex, by: oneChunk).map { body[$0..<min($0 + oneChunk, body.endIndex)] }
        let cases: [(String, Data)] = [
            ("a flipped bit", flipped),
            ("cut at a chunk boundary", header + chunks[0] + chunks[1]),
            ("cut inside a chunk", sealed.prefix(sealed.count - 3)),
            ("two chunks swapped", header + chunks[1] + chunks[0] + chunks[2] + chunks[3]),
            ("cut inside the header", sealed.prefix(20)),
            (
                "the nonce prefix changed",
                {
                    var d = sealed; d[30] ^= 0x80; return d
                }()
            ),
        ]
        for (what, bytes) in cases {
            #expect(throws: BackupError.self, "\(what)") { try StreamOpener.open(bytes, keyring: keyring, what: what) }
            do {
                _ = try StreamOpener.open(bytes, keyring: keyring, what: what)
            } catch BackupError.unauthentic {
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
    }

    /// A key the config lacks is named (not reported as damage); a rotated key opens what
    /// it sealed while new objects use the current one.
    @Test func theKeyIsFoundByItsIdAcrossARotation() throws {
        let old = try StreamSealer.seal(Data("before".utf8), key: Self.other)
        do {
            _ = try StreamOpener.open(old, keyring: BackupKeyring(current: Self.key), what: "old")
            Issue.record("opened with the wrong key")
        } catch BackupError.keyMissing(let id, _, let configured) {
            #expect(id == Self.other.id)
            #expect(configured == [Self.key.id])
        }
        let rotated = BackupKeyring(current: Self.key, previous: [Self.other])
        #expect(try StreamOpener.open(old, keyring: rotated, what: "old") == Data("before".utf8))
    }

    @Test func keysAreReadAsHexFromFilesOnlyTheirOwnerCanRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/backup.key"
        try (Self.keyHex + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        #expect(throws: BackupError.self) { try BackupKey.load(.file(path), what: "key") }
        chmod(path, 0o600)
        let loaded = try BackupKey.load(.file(path), what: "key")
        #expect(loaded.id.count == 16 && !Self.keyHex.contains(loaded.id))
        #expect("\(loaded)" == "backup key \(loaded.id)", "printing a key prints its id only")
        try "not-a-key".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        do {
            _ = try BackupKey.load(.file(path), what: "key")
            Issue.record("a malformed key was accepted")
        } catch {
            #expect(!"\(error)".contains("not-a-key"), "the error never echoes the file's content")
        }
    }

    /// The independent reader: Debian's Python with its cryptography package opens what
    /// drctl sealed, byte for byte.
    @Test func pythonsCryptographyOpensWhatDrctlSealed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-seal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (Self.keyHex + "\n").write(toFile: "\(dir)/key", atomically: true, encoding: .utf8)
        chmod("\(dir)/key", 0o600)
        let key = try BackupKey.load(.file("\(dir)/key"), what: "key")
        for size in [0, Self.chunk, 2 * Self.chunk + 999] {
            let data = Self.bytes(size)
            try StreamSealer.seal(data, key: key).write(to: URL(fileURLWithPath: "\(dir)/sealed"))
            let status = try Self.python(["\(dir)/key", "\(dir)/sealed", "\(dir)/opened"])
            #expect(status == 0, "size \(size)")
            #expect(FileManager.default.contents(atPath: "\(dir)/opened") == data, "size \(size)")
        }
        var tampered = try StreamSealer.seal(Self.bytes(100), key: key)
        tampered[40] ^= 1
        try tampered.write(to: URL(fileURLWithPath: "\(dir)/sealed"))
        #expect(try Self.python(["\(dir)/key", "\(dir)/sealed", "\(dir)/opened"]) != 0)
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/decrypt-backup.py").standardized.path

    static func python(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        // Debian's interpreter, with Debian's python3-cryptography (debian-packages.txt).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script] + arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
