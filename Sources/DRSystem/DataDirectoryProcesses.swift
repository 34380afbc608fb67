import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The processes of one PostgreSQL data directory, found and ended without asking the server.
///
/// Every PostgreSQL process (postmaster, client backends, walsenders, background workers)
/// runs with its data directory as working directory, including backends that outlive a
/// killed or stopped postmaster. A connection an application pool opened earlier keeps
/// committing through such a backend while the postmaster refuses every new connection, so
/// "the postmaster does not answer" proves nothing: only "no process works in this
/// directory any more" does. `pg_ctl stop` cannot give that proof either: signals to a
/// stopped (SIGSTOP) postmaster wait until it is continued. SIGKILL does not wait.
public enum DataDirectoryProcesses {
    /// What a scan of /proc found for one data directory.
    public struct Scan: Equatable, Sendable {
        /// Live processes (zombies excluded: they commit nothing) working in the directory.
        public var pids: [Int32]
        /// Processes of the directory owner's user whose working directory could not be read
        /// (an agent that is neither root nor that user): they may belong to the server.
        public var unreadable: [Int32]

        /// True when no process of the directory is left, and none could be hiding.
        public var provenEmpty: Bool { pids.isEmpty && unreadable.isEmpty }
    }

    /// The live PostgreSQL processes (by executable name) working in `dataDir`. Reads /proc
    /// only, never the data directory's filesystem (a hung mount is when fences happen):
    /// `dataDir` is compared as written, normalized, and as `resolved` (the kernel reports
    /// working directories with symlinks resolved). `owner` (the server's user, when known)
    /// decides which unreadable processes could be the server's.
    public static func scan(_ dataDir: String, resolved: String? = nil, owner: uid_t? = nil) -> Scan {
        let targets = Set([(dataDir as NSString).standardizingPath, resolved].compactMap { $0 })
        var found = Scan(pids: [], unreadable: [])
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let me = getpid()
        for entry in entries {
            guard let pid = Int32(entry), pid != me else { continue }
            guard !isZombie(pid) else { continue }
            switch (link("/proc/\(pid)/cwd"), link("/proc/\(pid)/exe")) {
            case (.success(let cwd), .success(let exe)):
                // A server process, not an operator's shell that happens to stand there.
                if targets.contains(cwd), (exe as NSString).lastPathComponent.hasPrefix("postgres") { found.pids.append(pid) }
            case (.failure(let error), _), (_, .failure(let error)):
                // Gone meanwhile (ENOENT), or not ours to read (EACCES): the latter counts
                // only for processes of the server's user (PostgreSQL never runs as root;
                // what root cannot read — PID 1 of a sandbox — is no server of this directory).
                if error.code == EACCES, let owner, owner != 0, processUID(pid) == owner { found.unreadable.append(pid) }
            }
        }
        return found
    }

    /// `path` with its symlinks resolved, or nil when that takes longer than `limit` (a hung
    /// mount) or fails: asked on a thread of its own, never on Swift's cooperative pool.
    public static func resolve(_ path: String, within limit: Duration = .seconds(1)) async -> String? {
        let answer = ResolvedPath()
        Thread { answer.give(realPath(path)) }.start()
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let resolved = answer.value { return resolved }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return answer.value ?? nil
    }

    private final class ResolvedPath: @unchecked Sendable {
        private let lock = NSLock()
        private var result: String??
        var value: String?? { lock.withLock { result } }
        func give(_ path: String?) { lock.withLock { result = .some(path) } }
    }

    /// How `end` got there: which signals it took, and what was left at the end.
    public struct Ending: Equatable, Sendable {
        public var steps: [String]
        public var left: Scan
        public var proven: Bool { left.provenEmpty }
    }

    /// Ends every process of `dataDir`, gently first: `gentle` signals in order (e.g.
    /// SIGINT for a fast shutdown, then SIGQUIT for an immediate one), each sent to
    /// `postmaster` and given its share of wait until the directory is empty; then SIGKILL
    /// to the postmaster and to every process still working in the directory, repeated until
    /// none is left or `killWait` passes. A stopped postmaster (state T) can act on no signal
    /// but SIGKILL, so the gentle steps are skipped for it.
    public static func end(
        _ dataDir: String, postmaster: Int32?, gentle: [(signal: Int32, wait: Duration)], killWait: Duration = .seconds(2)
    ) async -> Ending {
        var steps: [String] = []
        let resolved = await resolve(dataDir)
        // The server runs as its postmaster's user; with none left, as this agent's (an agent
        // running as root reads every server process, so it needs no owner).
        let owner = postmaster.flatMap { processUID($0) } ?? geteuid()
        func scan() -> Scan { Self.scan(dataDir, resolved: resolved, owner: owner) }
        func waitEmpty(_ limit: Duration) async -> Bool {
            let deadline = ContinuousClock.now + limit
            while true {
                if scan().provenEmpty { return true }
                if ContinuousClock.now >= deadline { return false }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let live = postmaster.flatMap { ProcessControl.isAlive($0) ? $0 : nil }
        if let live, !isStopped(live) {
            for (signal, wait) in gentle {
                kill(live, signal)
                steps.append("signal \(signal) to postmaster \(live)")
                if await waitEmpty(wait) { return Ending(steps: steps, left: scan()) }
                if !ProcessControl.isAlive(live) { break }  // exited; its children are next
            }
        } else if let live {
            steps.append("postmaster \(live) is stopped (SIGSTOP): only SIGKILL ends it")
        }
        let deadline = ContinuousClock.now + killWait
        while true {
            // The postmaster first: no new backend can be forked after it.
            if let live, ProcessControl.isAlive(live) { kill(live, SIGKILL) }
            let left = scan()
            for pid in left.pids { kill(pid, SIGKILL) }
            if !left.pids.isEmpty { steps.append("SIGKILL to \(left.pids.map(String.init).joined(separator: ", "))") }
            if left.provenEmpty || ContinuousClock.now >= deadline {
                return Ending(steps: steps, left: left.provenEmpty ? left : scan())
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Whether `pid` is stopped by a signal (T) or a tracer (t): it acts on nothing but
    /// SIGKILL (and SIGCONT) until continued.
    public static func isStopped(_ pid: Int32) -> Bool {
        guard let state = state(pid) else { return false }
        return state == "T" || state == "t"
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let state = state(pid) else { return true }  // gone
        return state == "Z" || state == "X"
    }

    /// The one-letter state in /proc/PID/stat (after the parenthesised command name).
    static func state(_ pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")"),
            stat.index(close, offsetBy: 2) < stat.endIndex
        else { return nil }
        return stat[stat.index(close, offsetBy: 2)]
    }

    static func processUID(_ pid: Int32) -> uid_t? {
        var info = stat()
        return stat("/proc/\(pid)", &info) == 0 ? info.st_uid : nil
    }

    struct Errno: Error, Equatable { var code: Int32 }

    /// The target of a /proc symlink, or the errno that refused it.
    static func link(_ path: String) -> Result<String, Errno> {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length >= 0 else { return .failure(Errno(code: errno)) }
        return .success(String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
