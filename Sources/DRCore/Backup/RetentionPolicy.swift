/// Which backups to keep: the newest `keepLast`, plus the newest backup of each of the
/// last `hourly` hours, `daily` days, `weekly` weeks and `monthly` months (30-day months,
/// UTC buckets counted back from now). Never removes the only valid backup. Pure.
public struct RetentionPolicy: Sendable, Equatable {
    public var keepLast: Int
    public var hourly: Int
    public var daily: Int
    public var weekly: Int
    public var monthly: Int

    public init(keepLast: Int = 7, hourly: Int = 0, daily: Int = 7, weekly: Int = 4, monthly: Int = 3) {
        self.keepLast = keepLast
        self.hourly = hourly
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
    }

    /// A backup as retention sees it.
    public struct Item: Sendable, Equatable {
        public var id: String
        /// Seconds since the epoch when it finished.
        public var finishedAt: Int64
        /// Complete and not found corrupt.
        public var valid: Bool

        public init(id: String, finishedAt: Int64, valid: Bool) {
            self.id = id
            self.finishedAt = finishedAt
            self.valid = valid
        }
    }

    public struct Plan: Sendable, Equatable {
        /// Kept ids, each with why.
        public var keep: [String: String]
        /// Ids to remove, oldest first.
        public var remove: [String]
    }

    public func plan(_ items: [Item], now: Int64) -> Plan {
        let newestFirst = items.sorted { ($0.finishedAt, $0.id) > ($1.finishedAt, $1.id) }
        var keep: [String: String] = [:]
        for item in newestFirst.filter(\.valid).prefix(keepLast) { keep[item.id] = keep[item.id] ?? "one of the newest \(keepLast)" }
        let buckets: [(String, Int64, Int)] = [("hourly", 3600, hourly), ("daily", 86400, daily), ("weekly", 7 * 86400, weekly), ("monthly", 30 * 86400, monthly)]
        for (name, width, count) in buckets where count > 0 {
            for bucket in 0..<Int64(count) {
                let newest = newestFirst.first { $0.valid && (now - $0.finishedAt) / width == bucket && $0.finishedAt <= now }
                if let newest { keep[newest.id] = keep[newest.id] ?? "newest of \(name) bucket \(bucket)" }
            }
        }
        if !keep.keys.contains(where: { id in newestFirst.contains { $0.id == id && $0.valid } }), let only = newestFirst.first(where: \.valid) {
            keep[only.id] = "the only valid backup"
        }
        // Unfinished or corrupt backups go once a newer valid one exists.
        let remove = newestFirst.reversed().filter { keep[$0.id] == nil }.map(\.id)
        return Plan(keep: keep, remove: remove)
    }
}
