import Foundation

/// Where PostgreSQL's server programs live: `$DRCTL_PG_BIN`, else Debian's versioned
/// directory (newest first), else PATH.
public enum PostgresBinaries {
    public static func directory() throws -> String {
        if let dir = ProcessInfo.processInfo.environment["DRCTL_PG_BIN"] { return dir }
        for version in [17, 16, 15] {
            let dir = "/usr/lib/postgresql/\(version)/bin"
            if FileManager.default.isExecutableFile(atPath: "\(dir)/initdb") { return dir }
        }
        let initdb = try CommandRunner.resolve("initdb")
        return (initdb as NSString).deletingLastPathComponent
    }
}

extension PostgresBinaries {
    /// The path of one server program, e.g. `pg_ctl`.
    public static func binary(_ name: String) throws -> String {
        "\(try directory())/\(name)"
    }
}
