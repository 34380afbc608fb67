import Foundation

/// PID files for the processes that do not write their own (lab servers, the agent's
/// watchdogs): one PID and a newline.
public enum PIDFile {
    public static func write(_ pid: Int32, to path: String) throws {
        try "\(pid)\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The PID in `path`, alive or not; nil without a readable one.
    public static func recorded(_ path: String) -> Int32? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The PID in `path` when that process is alive.
    public static func read(_ path: String) -> Int32? {
        guard let pid = recorded(path), ProcessControl.isAlive(pid) else { return nil }
        return pid
    }
}
