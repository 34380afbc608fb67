import DRCore
import Foundation
import Testing

@testable import DRBackup

/// The WAL archive on a directory repository (issue 27): pushes are conditional creates,
/// so one name is never overwritten, and nothing without its checksum is handed out.
@Suite struct WALArchiveTests {
    static func scratch() throws -> (root: String, archive: WALArchive) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-wal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let repository = BackupRepository(store: DirectoryStore(root: root), cluster: "c", region: "r")
        return (root, WALArchive(repository: repository))
    }

    static func file(_ root: String, _ name: String, _ byte: UInt8) throws -> String {
        let path = "\(root)/\(name)-\(byte)"
        try Data(repeating: byte, count: 4096).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Twenty pushers race for one name, each with its own bytes: exactly one wins, the
    /// others are refused, and the archive holds the winner's bytes with the winner's sum.
    @Test func racingPushersNeverOverwriteEachOther() async throws {
        let (root, archive) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let name = "000000010000000000000007"
        let sources = try (0..<20).map { try Self.file(root, name, UInt8($0)) }
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for (index, source) in sources.enumerated() {
                group.addTask { (index, (try? await archive.push(path: source, name: name)) == .stored) }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        let winners = outcomes.filter(\.value).map(\.key)
        #expect(winners.count == 1, "\(outcomes)")
        let winner = try #require(winners.first)
        let fetched = "\(root)/fetched"
        #expect(try await archive.fetch(name: name, to: fetched))
        #expect(FileManager.default.contents(atPath: fetched) == Data(repeating: UInt8(winner), count: 4096))
        #expect(try await archive.push(path: sources[winner], name: name) == .alreadyArchived, "the same bytes again: fine")
    }

    /// Stored compressed (zstd's own tool reads it back), fetched as it was; an archive
    /// written before compression (plain files) stays readable and is not stored twice.
    @Test func segmentsAreStoredCompressedAndPlainOnesStillRead() async throws {
        let (root, archive) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let name = "00000001000000000000000A"
        let source = "\(root)/source"
        let original = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) })
        try original.write(to: URL(fileURLWithPath: source))
        #expect(try await archive.push(path: source, name: name) == .stored)
        let stored = "\(root)/c/wal/\(name).zst"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: stored)[.size] as? Int)
        #expect(size < original.count / 10, "compressed: \(size) bytes")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
        process.arguments = ["-dcq", stored, "-o", "\(root)/by-zstd"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && FileManager.default.contents(atPath: "\(root)/by-zstd") == original, "zstd -d reads it")
        #expect(try await archive.fetch(name: name, to: "\(root)/fetched"))
        #expect(FileManager.default.contents(atPath: "\(root)/fetched") == original)

        let plain = WALArchive(repository: BackupRepository(store: DirectoryStore(root: root), cluster: "c", region: "r"), compression: .init(method: .none))
        let legacy = "00000001000000000000000B"
        #expect(try await plain.push(path: source, name: legacy) == .stored)
        #expect(FileManager.default.fileExists(atPath: "\(root)/c/wal/\(legacy)"))
        #expect(try await archive.push(path: source, name: legacy) == .alreadyArchived, "not stored a second time, compressed")
        #expect(!FileManager.default.fileExists(atPath: "\(root)/c/wal/\(legacy).zst"))
        #expect(try await archive.fetch(name: legacy, to: "\(root)/legacy"))
        #expect(try await archive.names() == [name, legacy])
        try await archive.expire([name, legacy])
        #expect(try await archive.names().isEmpty)
    }

    /// With a key, segments are compressed then sealed (`NAME.zst.enc`): the stored bytes
    /// are neither the segment nor a zstd frame, the independent reader plus `zstd -d` give
    /// the segment back, an archive without the key names the key it needs, and an archive
    /// written before encryption stays readable.
    @Test func encryptedSegmentsAreSealedAfterCompression() async throws {
        let (root, plain) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try (SealedStreamTests.keyHex + "\n").write(toFile: "\(root)/key", atomically: true, encoding: .utf8)
        chmod("\(root)/key", 0o600)
        let keyring = try #require(try BackupKeyring.load(BackupEncryption(key: .file("\(root)/key"))))
        let sealed = WALArchive(repository: BackupRepository(store: DirectoryStore(root: root), cluster: "c", region: "r", keyring: keyring))
        let original = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) })
        try original.write(to: URL(fileURLWithPath: "\(root)/source"))
        let name = "00000001000000000000000C", earlier = "00000001000000000000000B"
        #expect(try await plain.push(path: "\(root)/source", name: earlier) == .stored, "before encryption was turned on")
        #expect(try await sealed.push(path: "\(root)/source", name: name) == .stored)
        #expect(try await sealed.push(path: "\(root)/source", name: name) == .alreadyArchived, "a retry of the same bytes")
        let stored = "\(root)/c/wal/\(name).zst.enc"
        let bytes = try #require(FileManager.default.contents(atPath: stored))
        #expect(bytes.count < original.count / 10, "compressed before sealing")
        #expect(bytes.prefix(8) == Data("DRCTLAE1".utf8))
        #expect(try SealedStreamTests.python(["\(root)/key", stored, "\(root)/opened.zst"]) == 0)
        let zstd = Process()
        zstd.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
        zstd.arguments = ["-dcq", "\(root)/opened.zst", "-o", "\(root)/by-zstd"]
        try zstd.run()
        zstd.waitUntilExit()
        #expect(FileManager.default.contents(atPath: "\(root)/by-zstd") == original, "python's AES-GCM, then zstd -d")
        #expect(try await sealed.fetch(name: name, to: "\(root)/fetched"))
        #expect(FileManager.default.contents(atPath: "\(root)/fetched") == original)
        #expect(try await sealed.fetch(name: earlier, to: "\(root)/fetched-earlier"))
        #expect(try await sealed.names() == [earlier, name])
        do {
            _ = try await plain.fetch(name: name, to: "\(root)/no-key")
            Issue.record("fetched a sealed segment without the key")
        } catch BackupError.keyMissing(let id, _, _) {
            #expect(id == keyring.current.id)
        }
        #expect(try await sealed.damage(of: name) == nil)
        try await sealed.expire([earlier, name])
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/c/wal")) ?? []).isEmpty, "every form and checksum expired")
    }

    @Test func aSegmentWithoutItsChecksumIsRefused() async throws {
        let (root, archive) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let name = "000000010000000000000008"
        #expect(try await archive.push(path: try Self.file(root, name, 1), name: name) == .stored)
        try FileManager.default.removeItem(atPath: "\(root)/c/wal/\(name).sha256")
        await #expect(throws: BackupError.self) { _ = try await archive.fetch(name: name, to: "\(root)/out") }
        #expect(!FileManager.default.fileExists(atPath: "\(root)/out"))
        #expect(try await archive.fetch(name: "000000010000000000000009", to: "\(root)/none") == false, "not archived: recovery ends")
    }
}

/// Asynchronous archiving's spool tells PostgreSQL which segments are safe: one that someone
/// else could write (the default lies under /tmp) is refused, never trusted.
@Suite struct AsyncArchiverSpoolTests {
    @Test func aSpoolOthersCanWriteIsRefused() async throws {
        let (root, archive) = try WALArchiveTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let spool = "\(root)/spool"
        let archiver = AsyncArchiver(archive: archive, spool: spool, workers: 1)
        try archiver.prepareSpool()
        #expect(try FileManager.default.attributesOfItem(atPath: spool)[.posixPermissions] as? Int == 0o700)
        chmod(spool, 0o777)
        // A note planted by another user must not pass for an archived segment.
        try Data().write(to: URL(fileURLWithPath: "\(spool)/000000010000000000000001.ok"))
        await #expect(throws: BackupError.self) { _ = try await archiver.waitFor(segment: "000000010000000000000001") {} }
        try FileManager.default.removeItem(atPath: spool)
        try FileManager.default.createSymbolicLink(atPath: spool, withDestinationPath: root)
        #expect(throws: BackupError.self) { try archiver.prepareSpool() }
    }
}
