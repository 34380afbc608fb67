import Foundation

/// Processes whose command line contains every given argument (read from /proc).
enum LabProcesses {
    /// The direct children of `pid` (a postmaster's backends).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let fields = stat.split(separator: ")").last?.split(separator: " ")
            else { return false }
            return fields.count > 2 && Int32(fields[1]) == pid
        }
    }

    static func matching(_ arguments: [String]) -> [Int32] {
        commandLines().filter { _, argv in arguments.allSatisfy(argv.contains) }.map(\.pid)
    }

    /// Processes whose command line mentions `text` anywhere (a lab directory), this one aside.
    static func containing(_ text: String) -> [Int32] {
        commandLines().filter { pid, argv in pid != getpid() && argv.contains { $0.contains(text) } }.map(\.pid)
    }

    /// Every process's arguments, from /proc.
    private static func commandLines() -> [(pid: Int32, argv: [String])] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).compactMap { pid in
            FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { data in
                (pid, data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            }
        }
    }
}
