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
