/// Where a restore's recovery ended, against what the WAL archive holds: PostgreSQL takes
/// any `restore_command` failure for "not archived" and ends recovery there, so a transient
/// error while fetching (or a hole in the archive) promotes a silently shorter copy. Pure:
/// the shell reads the restored server's log and lists the archive.
public enum RecoveryEnd {
    /// The last WAL file recovery restored from the archive, from the server's log
    /// (`restored log file "NAME" from archive`); nil when it restored none.
    public static func lastRestored(log: String) -> String? {
        var last: String?
        for line in log.split(separator: "\n") where line.contains("restored log file \"") && line.contains("from archive") {
            guard let open = line.range(of: "restored log file \""), let close = line[open.upperBound...].firstIndex(of: "\"") else { continue }
            let name = String(line[open.upperBound..<close])
            if RepositoryRetention.segmentNumber(name) != nil, !name.contains(".") { last = name }
        }
        return last
    }

    /// The archived segments after `last` on its timeline: the WAL recovery should have
    /// replayed and did not. Empty when the restore reached the archive's end.
    public static func missed(after last: String, archived: [String], segmentSize: UInt64 = 16 << 20) -> [String] {
        guard let stop = RepositoryRetention.segmentNumber(last, segmentSize: segmentSize) else { return [] }
        let timeline = last.prefix(8)
        return archived.filter { name in
            !name.contains(".") && name.hasPrefix(timeline) && (RepositoryRetention.segmentNumber(name, segmentSize: segmentSize).map { $0 > stop } ?? false)
        }.sorted()
    }
}
