import Foundation

/// Fetching ahead during recovery, as pgBackRest's asynchronous `archive-get` does.
/// PostgreSQL asks `restore_command` for one segment at a time and replays it before it
/// asks for the next, so a restore waits on the repository once per segment. With
/// `backup.fetch_ahead` (segments, default 8), `wal-fetch` records the segment it was asked
/// for and makes sure a background prefetcher runs; the prefetcher keeps the next segments
/// on that timeline, fetched and checked as `wal-fetch` checks them, in a spool, and the
/// next `wal-fetch` only renames its segment into place.
///
/// The spool is `pg_wal/drctl-fetch-ahead` of the recovering server: private to that data
/// directory (restore_command runs in it), on its file system (a rename, not a copy), and
/// never copied into a base backup of it (pg_basebackup leaves pg_wal's contents out), so a
/// copy fetched from one archive can never be handed to recovery from another.
public struct WALPrefetcher: Sendable {
    public let archive: WALArchive
    /// The spool directory (absolute).
    public let spool: String
    public let ahead: Int
    public var workers = 2
    /// How long the prefetcher waits for recovery to ask again before it clears the spool
    /// and exits (recovery paused at a target, or stopped).
    public var idle: Duration = .seconds(30)

    /// - Parameter dataDirectory: the recovering server's data directory (restore_command's
    ///   working directory).
    public init(archive: WALArchive, dataDirectory: String, ahead: Int) {
        self.archive = archive
        spool = dataDirectory + "/pg_wal/drctl-fetch-ahead"
        self.ahead = ahead
    }

    /// Whether a name is a WAL segment's (history files, backup labels and partial segments
    /// are fetched as asked, never ahead).
    public static func isSegment(_ name: String) -> Bool { name.count == 24 && name.allSatisfy(\.isHexDigit) }

    /// The `count` segment names after `name` on its timeline, for segments of `segmentSize` bytes.
    static func following(_ name: String, count: Int, segmentSize: UInt64) -> [String] {
        guard count > 0, isSegment(name), segmentSize > 0, let timeline = UInt32(name.prefix(8), radix: 16), let log = UInt64(name.dropFirst(8).prefix(8), radix: 16),
            let segment = UInt64(name.suffix(8), radix: 16)
        else { return [] }
        let perLog = 0x1_0000_0000 / segmentSize
        let number = log * perLog + segment
        return (1...count).map { step in
            let next = number + UInt64(step)
            return String(format: "%08X%08X%08X", timeline, UInt32(next / perLog), UInt32(next % perLog))
        }
    }

    /// `restore_command`'s side: moves the prefetched copy of `name` to `path`; false when
    /// there is none (fetch it directly).
    public func take(_ name: String, to path: String) -> Bool {
        guard Self.isSegment(name), isPrivateDirectory() else { return false }
        return rename("\(spool)/\(name)", path) == 0
    }

    /// Records the segment recovery asked for (the prefetcher keeps `ahead` beyond it) and
    /// starts the prefetcher with `start` when none runs.
    public func requested(_ name: String, segmentSize: UInt64, start: () throws -> Void) throws {
        guard Self.isSegment(name), ahead > 0 else { return }
        try prepareSpool()
        let note = "\(spool)/requested"
        try Data("\(name) \(segmentSize)\n".utf8).write(to: URL(fileURLWithPath: note + ".tmp"))
        rename(note + ".tmp", note)
        if !running() { try start() }
    }

    /// Recovery found the archive's end (or the server is a standby streaming instead):
    /// nothing prefetched will be asked for.
    public func clear() {
        guard isPrivateDirectory() else { return }
        try? FileManager.default.removeItem(atPath: spool)
    }

    /// The prefetcher: fetches the segments after the last requested one that the spool
    /// lacks, `workers` at a time, until one is not archived (the end: nothing after it is
    /// fetched); drops copies recovery has gone past; clears the spool and exits after
    /// `idle` without a new request. Returns at once when another prefetcher runs.
    public func run() async {
        guard isPrivateDirectory() else { return }
        guard let held = lock.take() else { return }
        defer { ProcessLock.release(held) }
        var last = ""
        var quietSince = ContinuousClock.now
        var end: String?
        while true {
            // The newest request decides whether to go on: one that arrived while the last
            // fetches ran is served, not lost to the idle clock.
            guard let (name, segmentSize) = lastRequest() else { break }
            if name != last {
                last = name
                quietSince = ContinuousClock.now
                dropCopies(through: name)
            }
            if ContinuousClock.now - quietSince >= idle { break }
            let wanted = Self.following(name, count: ahead, segmentSize: segmentSize)
                .filter { $0 < (end ?? "~") && !FileManager.default.fileExists(atPath: "\(spool)/\($0)") }
            if wanted.isEmpty {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let missing = await withTaskGroup(of: String?.self) { group in
                var next = wanted.makeIterator()
                for _ in 0..<min(workers, wanted.count) {
                    guard let segment = next.next() else { break }
                    group.addTask { await fetchOne(segment) }
                }
                var missing: [String] = []
                while let result = await group.next() {
                    if let result { missing.append(result) }
                    if let segment = next.next() { group.addTask { await fetchOne(segment) } }
                }
                return missing
            }
            if let first = missing.min() { end = min(end ?? first, first) }
            // Every fetch of the round failed (the repository is down, a segment damaged):
            // try again after a pause, not in a tight loop.
            if wanted.allSatisfy({ !FileManager.default.fileExists(atPath: "\(spool)/\($0)") }) {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        // A request written after the read above goes with the spool: that one segment is
        // fetched directly, and its wal-fetch, finding no prefetcher, starts the next.
        clear()
    }

    /// Fetches one segment into the spool; its name only when the archive says it is not
    /// there (the end). A failed fetch is no end: the segment is left to `wal-fetch`,
    /// which asks the repository itself and reports why, and later ones are still fetched.
    private func fetchOne(_ name: String) async -> String? {
        let temporary = "\(spool)/\(name).partial"
        do {
            guard try await archive.fetch(name: name, to: temporary) else { return name }
            rename(temporary, "\(spool)/\(name)")
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
        }
        return nil
    }

    private var lock: ProcessLock { ProcessLock(path: "\(spool)/prefetcher.lock") }

    private func lastRequest() -> (name: String, segmentSize: UInt64)? {
        guard let text = try? String(contentsOfFile: "\(spool)/requested", encoding: .utf8) else { return nil }
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, Self.isSegment(String(parts[0])), let size = UInt64(parts[1]) else { return nil }
        return (String(parts[0]), size)
    }

    /// Copies of `name` and the segments before it (any timeline): recovery has them.
    private func dropCopies(through name: String) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []
        for file in files where Self.isSegment(file) && file.suffix(16) <= name.suffix(16) {
            try? FileManager.default.removeItem(atPath: "\(spool)/\(file)")
        }
    }

    func running() -> Bool { lock.isHeld }

    private func prepareSpool() throws {
        try? FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        guard isPrivateDirectory() else {
            throw BackupError.refused("the fetch-ahead spool \(spool) is not a directory of uid \(geteuid()) closed to others; remove it")
        }
    }

    /// A directory (not a link) of this user's that nobody else can write: what is in it
    /// is handed to recovery as archived WAL.
    private func isPrivateDirectory() -> Bool {
        var info = stat()
        guard lstat(spool, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR && info.st_uid == geteuid() && info.st_mode & 0o077 == 0
    }
}
