import DRCore
import Foundation
import Synchronization
import Testing

@testable import DRBackup

/// Fetching ahead during recovery (issue 27): the prefetcher keeps the next segments on the
/// requested one's timeline, checked, in a spool private to the data directory; it stops at
/// the archive's end, and `wal-fetch` takes its copies by a rename.
@Suite struct WALPrefetcherTests {
    @Test(arguments: [
        ("0000000100000000000000FE", 3, UInt64(16 << 20), ["0000000100000000000000FF", "000000010000000100000000", "000000010000000100000001"]),
        ("00000002000000050000003F", 1, UInt64(64 << 20), ["000000020000000600000000"]),
        ("000000010000000000000001", 0, UInt64(16 << 20), []),
        ("00000001.history", 2, UInt64(16 << 20), []),
    ])
    func theNextSegmentsFollowTheTimelineAcrossLogBoundaries(name: String, count: Int, size: UInt64, expected: [String]) {
        #expect(WALPrefetcher.following(name, count: count, segmentSize: size) == expected)
    }

    static func archiveWithSegments(_ count: Int) async throws -> (root: String, archive: WALArchive, names: [String]) {
        let (root, archive) = try WALArchiveTests.scratch()
        var names: [String] = []
        for index in 1...count {
            let name = String(format: "0000000100000000000000%02X", index)
            let source = "\(root)/source-\(index)"
            try Data(repeating: UInt8(index), count: 1 << 16).write(to: URL(fileURLWithPath: source))
            #expect(try await archive.push(path: source, name: name) == .stored)
            names.append(name)
        }
        return (root, archive, names)
    }

    @Test func thePrefetcherKeepsSegmentsAheadAndStopsAtTheArchivesEnd() async throws {
        let (root, archive, names) = try await Self.archiveWithSegments(5)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dataDirectory = "\(root)/data"
        try FileManager.default.createDirectory(atPath: "\(dataDirectory)/pg_wal", withIntermediateDirectories: true)
        var prefetcher = WALPrefetcher(archive: archive, dataDirectory: dataDirectory, ahead: 3)
        prefetcher.idle = .seconds(3)  // long enough for a loaded CI machine between the test's steps
        #expect(!prefetcher.take(names[0], to: "\(dataDirectory)/pg_wal/RECOVERYXLOG"), "nothing prefetched yet")
        let started = Mutex(0)
        try prefetcher.requested(names[0], segmentSize: 1 << 16) { started.withLock { $0 += 1 } }
        #expect(started.withLock { $0 } == 1)
        let running = Task { [prefetcher] in await prefetcher.run() }
        let spooled = { (try? FileManager.default.contentsOfDirectory(atPath: prefetcher.spool).filter(WALPrefetcher.isSegment).sorted()) ?? [] }
        #expect(try await Self.eventually { spooled() == Array(names[1...3]) }, "\(spooled())")

        let target = "\(dataDirectory)/pg_wal/RECOVERYXLOG"
        #expect(prefetcher.take(names[1], to: target))
        #expect(FileManager.default.contents(atPath: target) == Data(repeating: 2, count: 1 << 16), "the segment's own bytes")
        // Recovery asks for the last archived segment: nothing after it exists, none is made up.
        try prefetcher.requested(names[3], segmentSize: 1 << 16) { Issue.record("started a second prefetcher while one runs") }
        #expect(try await Self.eventually { spooled() == [names[4]] }, "copies recovery went past are dropped: \(spooled())")
        #expect(prefetcher.take(names[4], to: target))
        await running.value
        #expect(!FileManager.default.fileExists(atPath: prefetcher.spool), "cleared once recovery stopped asking")
    }

    /// Another user's directory (or a link) in its place is never trusted: what is in the
    /// spool is handed to recovery as archived WAL.
    @Test func aSpoolOthersCanWriteIsIgnored() async throws {
        let (root, archive, names) = try await Self.archiveWithSegments(2)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dataDirectory = "\(root)/data"
        try FileManager.default.createDirectory(atPath: "\(dataDirectory)/pg_wal/drctl-fetch-ahead", withIntermediateDirectories: true)
        let prefetcher = WALPrefetcher(archive: archive, dataDirectory: dataDirectory, ahead: 2)
        chmod(prefetcher.spool, 0o777)
        try Data("forged".utf8).write(to: URL(fileURLWithPath: "\(prefetcher.spool)/\(names[1])"))
        #expect(!prefetcher.take(names[1], to: "\(root)/out"))
        #expect(throws: BackupError.self) { try prefetcher.requested(names[0], segmentSize: 1 << 16) {} }
    }

    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<250 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
