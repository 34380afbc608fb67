import CSpawn
import Foundation

/// Starting, probing and stopping the lab's background servers by PID.
public enum ProcessControl {
    /// glibc's POSIX_SPAWN_SETSID (since 2.26); the header hides it behind _GNU_SOURCE.
    private static let posixSpawnSetsid: Int32 = 0x80

    /// Starts a long-running server in its own session (so it outlives `drctl-lab up` and
    /// ignores the terminal's signals), with stdout and stderr appended to `logFile`.
    public static func spawnDaemon(_ arguments: [String], logFile: String) throws -> Int32 {
        try spawn(arguments, stdout: logFile, stderr: logFile, append: true, newSession: true)
    }

    /// posix_spawn with stdin from /dev/null and output to files. Foundation's `Process` is
    /// not used: its child reaping missed exits of commands that leave a daemon behind
    /// (`pg_ctl start`), which hung the caller.
    /// - Parameter pipe: when given, stdout goes to `pipe.write` instead of the `stdout`
    ///   file, and `pipe.read` is closed in the child.
    /// - Parameter input: when given, stdin reads from `input.read` instead of /dev/null,
    ///   and `input.write` is closed in the child.
    static func spawn(
        _ arguments: [String], stdout: String, stderr: String, append: Bool, newSession: Bool,
        pipe: (read: Int32, write: Int32)? = nil, input: (read: Int32, write: Int32)? = nil
    ) throws -> Int32 {
        let executable = try CommandRunner.resolve(arguments[0])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        let sessionFlag = newSession ? posixSpawnSetsid : 0
        posix_spawnattr_setflags(&attributes, Int16(sessionFlag | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        if let input {
            posix_spawn_file_actions_adddup2(&actions, input.read, 0)
            posix_spawn_file_actions_addclose(&actions, input.read)
            posix_spawn_file_actions_addclose(&actions, input.write)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let pipe {
            posix_spawn_file_actions_adddup2(&actions, pipe.write, 1)
            posix_spawn_file_actions_addclose(&actions, pipe.read)
            posix_spawn_file_actions_addclose(&actions, pipe.write)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o640)
        }
        if stderr == stdout, pipe == nil {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, mode, 0o640)
        }
        // Nothing else crosses into the child: a postmaster started during a streamed
        // backup must not hold that backup's pipe (or a socket, or a lock file) for its life.
        drctl_spawn_closefrom(&actions, 3)

        var pid: pid_t = 0
        let argv = ([executable] + arguments.dropFirst()).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, Glibc.environ)
        guard status == 0 else {
            throw SystemError.io("cannot start \(arguments.joined(separator: " ")): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Waits for a child to exit on a Dispatch thread (waitpid blocks; Swift's cooperative
    /// pool must not) and returns its exit status, 128+N when killed by signal N.
    static func waitForChild(_ pid: Int32) async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1, errno == EINTR {}
                let low = status & 0x7f
                continuation.resume(returning: low == 0 ? (status >> 8) & 0xff : 128 + low)
            }
        }
    }

    /// True while the process exists and is not a zombie. Reaps it if it is our child.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        // A zombie (state Z) has exited; only its parent can reap it.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
            return state != "Z" && state != "X"
        }
        return true
    }

    /// Sends `signal`, waits up to `grace` for the process to go, then SIGKILLs it and waits
    /// again. Returns once it is gone; throws if even SIGKILL did not end it.
    public static func stop(_ pid: Int32, signal: Int32 = SIGTERM, grace: Duration = .seconds(10), name: String) async throws {
        guard isAlive(pid) else { return }
        kill(pid, signal)
        if await waitForExit(pid, within: grace) { return }
        kill(pid, SIGKILL)
        if await waitForExit(pid, within: .seconds(5)) { return }
        throw SystemError.timeout(what: "\(name) (pid \(pid)) exiting after SIGKILL", after: .seconds(5), log: nil)
    }

    public static func waitForExit(_ pid: Int32, within limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            if !isAlive(pid) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !isAlive(pid)
    }

    /// Returns as soon as `pid` exits (true), or after `limit` (false). Woken by the kernel
    /// (a pidfd) rather than by polling, on a thread of its own: neither Swift's cooperative
    /// pool nor Dispatch's few global threads (which `waitForChild` needs) sit blocked in it.
    /// Falls back to `waitForExit` where pidfds are unavailable.
    public static func exitEvent(_ pid: Int32, within limit: Duration) async -> Bool {
        let descriptor = drctl_pidfd_open(pid)
        guard descriptor >= 0 else { return await waitForExit(pid, within: limit) }
        return await withCheckedContinuation { continuation in
            Thread {
                defer { close(descriptor) }
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let clock = ContinuousClock()
                let deadline = clock.now + limit
                while true {
                    let left = deadline - clock.now
                    guard left > .zero else { return continuation.resume(returning: false) }
                    let milliseconds = Int32(max(1, min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000, 60_000)))
                    let ready = poll(&poller, 1, milliseconds)
                    if ready > 0 { return continuation.resume(returning: true) }
                    if ready < 0, errno != EINTR { return continuation.resume(returning: !isAlive(pid)) }
                }
            }.start()
        }
    }

    /// PIDs of live processes whose command line mentions `text` (e.g. a lab directory):
    /// how `lab down` and the tests prove that nothing was left behind.
    public static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let cmdline = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return cmdline.contains(text) && isAlive(pid)
        }
    }
}

/// Finds free TCP ports instead of assuming fixed ones, so labs and tests never collide.
public enum PortAllocator {
    /// A port that is free on `address` right now, chosen by the kernel. `avoiding` lists
    /// ports already handed out in this run but not yet bound by their server.
    public static func freePort(on address: String = "127.0.0.1", avoiding taken: Set<Int> = []) throws -> Int {
        for _ in 0..<50 {
            let port = try kernelChosenPort(on: address)
            if !taken.contains(port) { return port }
        }
        throw SystemError.io("no free TCP port found on \(address)")
    }

    private static func kernelChosenPort(on address: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError.io("socket(): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else { throw SystemError.io("not an IPv4 address: \(address)") }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw SystemError.io("cannot bind \(address): \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// True when something accepts TCP connections on `address:port`.
    public static func isListening(_ address: String, _ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
