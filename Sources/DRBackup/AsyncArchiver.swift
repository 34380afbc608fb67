import DRCore
import Foundation

/// Asynchronous WAL archiving, as pgBackRest's `archive-async` does it. PostgreSQL calls
/// `archive_command` for one segment at a time and waits for each; on a busy primary that
/// serial path falls behind and pg_wal fills. With `backup.archive_async`, `wal-push`
/// instead makes sure a background pusher runs and waits for its segment's note in the
/// spool: the pusher reads every `.ready` file in `pg_wal/archive_status`, pushes the
/// oldest first with `archive_workers` in parallel, and writes `NAME.ok` once a segment is
/// durable in the repository (`NAME.error` with why, when it is not). The next calls then
/// find their `.ok` waiting and answer at once. A segment is reported archived only once
/// it is in the repository, exactly as with synchronous pushes.
public struct AsyncArchiver: Sendable {
    public let archive: WALArchive
    public let spool: String
    public let workers: Int
    /// How long `wal-push` waits for its segment before it answers failure (PostgreSQL retries).
    public var wait: Duration = .seconds(60)
    /// How long the pusher lingers without work before it exits.
    public var idle: Duration = .seconds(3)

    public init(archive: WALArchive, spool: String, workers: Int) {
        self.archive = archive
        self.spool = spool
        self.workers = max(1, workers)
    }

    /// The spool directory when the config names none: per cluster, under the system's
    /// temporary directory (notes are only shortcuts: lost ones mean a segment pushed again,
    /// which the archive answers as already archived).
    public static func defaultSpool(cluster: String) -> String { NSTemporaryDirectory() + "drctl-archive-\(cluster)" }

    public enum Outcome: Sendable, Equatable {
        case archived
        case failed(String)
        case timedOut
    }

    /// `archive_command`'s side: the segment's note, after starting the pusher if needed.
    /// `startPusher` launches one (a new process) when none holds the spool's lock.
    public func waitFor(segment name: String, startPusher: () throws -> Void) async throws -> Outcome {
        try prepareSpool()
        if let outcome = take(name) { return outcome }
        if !pusherRunning() { try startPusher() }
        let deadline = ContinuousClock.now + wait
        var restarted = ContinuousClock.now
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            if let outcome = take(name) { return outcome }
            // A pusher that exited while this segment was not yet ready is started again.
            if ContinuousClock.now - restarted > .seconds(1), !pusherRunning() {
                try startPusher()
                restarted = ContinuousClock.now
            }
        }
        return .timedOut
    }

    /// Creates the spool (0700) and checks that it is a directory of this user's that nobody
    /// else can write: a note in it tells PostgreSQL a segment is safe, so a spool someone
    /// else made (the default is under /tmp) could fake an archive. Throws otherwise.
    func prepareSpool() throws {
        try? FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var info = stat()
        guard lstat(spool, &info) == 0 else { throw BackupError.io(path: spool, detail: "the archive spool cannot be created: \(String(cString: strerror(errno)))") }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        guard isDirectory, info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
            throw BackupError.refused(
                "the archive spool \(spool) is not a directory of uid \(geteuid()) closed to others (mode 0700): its notes say which segments are archived, "
                    + "so it is not trusted; remove it, or set backup.archive_spool to a directory only the database server's user can write")
        }
    }

    /// Takes (removes) the segment's note, if there is one.
    func take(_ name: String) -> Outcome? {
        let ok = "\(spool)/\(name).ok", error = "\(spool)/\(name).error"
        if FileManager.default.fileExists(atPath: ok) {
            try? FileManager.default.removeItem(atPath: ok)
            return .archived
        }
        if let why = try? String(contentsOfFile: error, encoding: .utf8) {
            try? FileManager.default.removeItem(atPath: error)
            return .failed(why)
        }
        return nil
    }

    var lock: ProcessLock { ProcessLock(path: "\(spool)/pusher.lock") }

    /// Whether a pusher holds the spool's lock now.
    func pusherRunning() -> Bool { lock.isHeld }

    /// The pusher: runs while `.ready` segments without a note remain, then `idle` longer;
    /// returns at once when another pusher holds the lock.
    /// - Parameter pgWal: the server's `pg_wal` directory.
    public func push(from pgWal: String) async {
        guard (try? prepareSpool()) != nil else { return }
        guard let held = lock.take() else { return }
        defer { ProcessLock.release(held) }
        var quietSince = ContinuousClock.now
        while ContinuousClock.now - quietSince < idle {
            let due = ready(in: pgWal)
            if due.isEmpty {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            quietSince = ContinuousClock.now
            await withTaskGroup(of: Void.self) { group in
                var next = due.makeIterator()
                for _ in 0..<min(workers, due.count) {
                    guard let name = next.next() else { break }
                    group.addTask { await pushOne(name, pgWal: pgWal) }
                }
                while await group.next() != nil {
                    if let name = next.next() { group.addTask { await pushOne(name, pgWal: pgWal) } }
                }
            }
        }
    }

    /// Ready segments without a note, oldest first (history files before segments of their
    /// timeline). Notes of segments PostgreSQL has marked done are dropped on the way: their
    /// `wal-push` has answered.
    func ready(in pgWal: String) -> [String] {
        let status = (try? FileManager.default.contentsOfDirectory(atPath: "\(pgWal)/archive_status")) ?? []
        for done in status where done.hasSuffix(".done") {
            let name = String(done.dropLast(".done".count))
            try? FileManager.default.removeItem(atPath: "\(spool)/\(name).ok")
        }
        return status.filter { $0.hasSuffix(".ready") }.map { String($0.dropLast(".ready".count)) }
            .filter { !FileManager.default.fileExists(atPath: "\(spool)/\($0).ok") && !FileManager.default.fileExists(atPath: "\(spool)/\($0).error") }
            .sorted()
    }

    func pushOne(_ name: String, pgWal: String) async {
        do {
            _ = try await archive.push(path: "\(pgWal)/\(name)", name: name)
            note(name, ".ok", "")
        } catch {
            note(name, ".error", "\(error)")
        }
    }

    /// Written whole (temporary name, rename): the waiting `wal-push` never reads half a note.
    func note(_ name: String, _ suffix: String, _ text: String) {
        let path = "\(spool)/\(name)\(suffix)"
        try? Data(text.utf8).write(to: URL(fileURLWithPath: path + ".tmp"))
        rename(path + ".tmp", path)
    }
}
