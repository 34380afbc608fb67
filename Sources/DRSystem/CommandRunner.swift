import Foundation

/// Runs a program to completion and captures its output, without blocking Swift's
/// cooperative pool: the child is awaited on a Dispatch thread through a continuation.
public enum CommandRunner {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `arguments` (the first is the executable: absolute, or looked up in PATH), as
    /// `user` when given and we are root. Throws `SystemError.commandFailed` on a non-zero exit
    /// unless `check` is false.
    @discardableResult
    public static func run(
        _ arguments: [String], as user: ServerUser = .current, check: Bool = true,
        environment: [String: String] = [:]
    ) async throws -> Output {
        let program = [try resolve(arguments[0])] + arguments.dropFirst()
        let settings = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let argv = settings.isEmpty ? user.wrap(program) : ["/usr/bin/env"] + settings + user.wrap(program)
        // Output goes to temporary files, not pipes: a daemon started by the command (pg_ctl
        // start's postmaster) can inherit a pipe and hold it open forever.
        let base = NSTemporaryDirectory() + "drctl-cmd-\(UUID().uuidString)"
        let outPath = base + ".out", errPath = base + ".err"
        defer { for path in [outPath, errPath] { try? FileManager.default.removeItem(atPath: path) } }
        let pid: Int32
        do {
            pid = try ProcessControl.spawn(argv, stdout: outPath, stderr: errPath, append: false, newSession: false)
        } catch {
            throw SystemError.commandFailed(command: arguments.joined(separator: " "), status: -1, output: "\(error)")
        }
        let status = await ProcessControl.waitForChild(pid)
        let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        let output = Output(status: status, stdout: read(outPath), stderr: read(errPath))
        if check, output.status != 0 {
            throw SystemError.commandFailed(
                command: arguments.joined(separator: " "), status: output.status,
                output: (output.stderr + output.stdout).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return output
    }

    /// The absolute path of an executable, searching PATH for a bare name.
    public static func resolve(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw SystemError.missingProgram(name)
    }
}

/// Who runs the lab's database servers. PostgreSQL refuses to run as root, so when drctl
/// runs as root the servers and their tools run as the `postgres` user through `runuser`.
public enum ServerUser: Sendable, Equatable {
    case current
    case postgres

    /// `postgres` when we are root, else the current user.
    public static var forPostgres: ServerUser { geteuid() == 0 ? .postgres : .current }

    /// `arguments` as a command that runs them as this user.
    public func wrap(_ arguments: [String]) -> [String] {
        switch self {
        case .current: arguments
        case .postgres: ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments
        }
    }
}
