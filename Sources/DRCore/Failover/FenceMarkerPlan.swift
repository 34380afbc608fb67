/// What an action does to the node's fence marker (`<state_dir>/<node>.fenced`, holding
/// why). The marker is what makes a stopped or read-only database count as fenced
/// (`LocalDatabase.State.fenced`) across agent restarts and reboots, until something proves
/// it can no longer come up writable without this agent. Which actions write it and which
/// end it is decided here, so that a table test can say so; the executor only applies it.
public struct FenceMarkerPlan: Sendable, Equatable {
    public enum Write: Sendable, Equatable {
        /// Written whatever was there.
        case replace(String)
        /// Written only when no marker is there (an earlier fence's reason is kept).
        case unlessPresent(String)
    }

    /// Written before the action runs.
    public var before: Write?
    /// Removed once the action succeeded: the database now runs as a standby started with
    /// `standby.signal`, or leads under a term.
    public var liftOnSuccess = false
    /// Removed when the action failed: a fence that was not proven leaves the database as
    /// it is (down or primary), reported so, and never counted as safely stopped.
    public var liftOnFailure = false

    public init(before: Write? = nil, liftOnSuccess: Bool = false, liftOnFailure: Bool = false) {
        self.before = before
        self.liftOnSuccess = liftOnSuccess
        self.liftOnFailure = liftOnFailure
    }

    /// The plan for `action`.
    public static func of(_ action: Action) -> FenceMarkerPlan {
        switch action {
        case .fence(_, let reason):
            FenceMarkerPlan(before: .replace(reason.description), liftOnFailure: true)
        case .handOver(let intent, let term):
            // Stopped cleanly for a switchover: it rejoins the new leader by itself.
            FenceMarkerPlan(before: .replace("\(switchoverPrefix) to \(intent.to) (term \(term))"))
        case .rejoin(_, let leader, let term):
            // A standby past the fork is stopped to be rewound: marked first, so that a rewind
            // that fails (the leader restarting) leaves a fenced node, tried again later, not
            // a stopped standby that no rule starts.
            FenceMarkerPlan(before: .unlessPresent("rewinding to follow \(leader) (term \(term))"), liftOnSuccess: true)
        case .promote, .cloneStandby, .resumeAsStandby:
            // Leading under a term; a new database started with standby.signal; a standby.
            FenceMarkerPlan(liftOnSuccess: true)
        case .renewLease, .acquireLeadership, .releaseLeadership, .setSynchronousStandbys, .recordSynchronous, .restartDatabase, .keepSlots,
            .crashForDrill, .restartInPlace, .dropRestartRequest, .follow, .switchDNS, .askFailsafeMembers, .publishFailsafe, .holdForOperator,
            .alert, .guardRestart:
            FenceMarkerPlan()
        }
    }

    static let switchoverPrefix = "switchover"

    /// Whether a marker's text says the node stopped to hand over in a switchover.
    public static func isSwitchover(_ text: String) -> Bool { text.hasPrefix(switchoverPrefix) }
}
