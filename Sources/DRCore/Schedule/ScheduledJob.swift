/// A scheduled job of the config's `schedules`: a backup or a restore drill, run by
/// exactly one agent at each time its cron expression matches.
public struct ScheduledJob: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case backup(BackupManifest.Kind)
        /// A drill file (restore drills only: the lab's fault drills are not for schedules).
        case drill(String)
    }

    public var name: String
    public var cron: CronSchedule
    public var action: Action

    public init(name: String, cron: CronSchedule, action: Action) {
        self.name = name
        self.cron = cron
        self.action = action
    }

    /// What the scheduler should do now, from the last run it recorded (pure).
    public enum Due: Sendable, Equatable {
        case notDue
        /// Run for the occurrence at `minute`; `missed` earlier occurrences since the last run
        /// were not run (agents down, or a run still going): reported, not replayed.
        case run(minute: Int64, missed: [Int64])
    }

    public func due(now minute: Int64, lastScheduledMinute: Int64?) -> Due {
        guard let latest = cron.latest(atOrBefore: minute) else { return .notDue }
        guard let last = lastScheduledMinute else { return .run(minute: latest, missed: []) }
        guard latest > last else { return .notDue }
        let between = cron.occurrences(after: last, through: latest - 1, cap: 100)
        return .run(minute: latest, missed: between)
    }
}
