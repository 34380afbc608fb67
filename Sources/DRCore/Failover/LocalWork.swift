/// The agent's own work on its database: what runs now, and how its last attempts ended.
///
/// Kept by the agent, not in etcd (a restarted agent starts with none), and handed to
/// `decide` beside what it observed (`LocalDatabase`) and what operators asked
/// (`NodeRequests`). One value, so that a fence and a promotion are each in exactly one
/// state, and every failure carries the term, message or instant its retry rule needs.
public struct LocalWork: Sendable, Equatable {
    /// The agent's fences: running, the last one failed (the database may still accept
    /// writes), or none.
    public var fence: FenceState = .idle
    /// A promotion this agent signalled and has not seen end: the database may turn
    /// writable at any moment, so the lease deadline treats it as writable.
    public var promotion: PromotionState = .idle
    /// The leader's database is being restarted in place (`restartInPlace`).
    public var restartingInPlace = false
    /// Restarts of the crashed database tried since it last passed a check.
    public var restartsTried = 0
    /// The last automatic rejoin failed (not retried under the same leader term before
    /// `FailoverPolicy.rejoinRetry`).
    public var rejoinFailed: RejoinFailure? = nil
    /// A standby build (`cloneStandby`): running (with its progress once reported), or the
    /// last one failed (tried again after `FailoverPolicy.rejoinRetry`).
    public var clone: CloneState = .idle
    /// Starting the fenced database as a standby last failed at this instant.
    public var resumeFailedAt: AgentInstant? = nil
    /// Starting the leader's own database again as the primary last failed at this instant.
    public var restoreFailedAt: AgentInstant? = nil
    /// A switchover's clean stop failed under this term: the database may still run, and is
    /// fenced before the key goes (rule `switchover-stop-failed`).
    public var handoverFailed: RejoinFailure? = nil

    public init(
        fence: FenceState = .idle, promotion: PromotionState = .idle, restartingInPlace: Bool = false, restartsTried: Int = 0,
        rejoinFailed: RejoinFailure? = nil,
        clone: CloneState = .idle, resumeFailedAt: AgentInstant? = nil, restoreFailedAt: AgentInstant? = nil,
        handoverFailed: RejoinFailure? = nil
    ) {
        self.fence = fence
        self.promotion = promotion
        self.restartingInPlace = restartingInPlace
        self.restartsTried = restartsTried
        self.rejoinFailed = rejoinFailed
        self.clone = clone
        self.resumeFailedAt = resumeFailedAt
        self.restoreFailedAt = restoreFailedAt
        self.handoverFailed = handoverFailed
    }

    /// The last standby build failed, and how (nil while one runs or after one succeeded).
    public var cloneFailed: RejoinFailure? { if case .failed(let failure) = clone { failure } else { nil } }

    /// Work the loop waits for while the leader lease must still be renewed every interval
    /// (a heartbeat beside the loop): a promotion's WAL replay, a fence's shutdown, a
    /// restart in place. Nil when none runs.
    public var leaseWorkUnderway: LeaseWork? {
        if promotion.isUnderway { return .promotion }
        if fence.isUnderway { return .fence }
        return restartingInPlace ? .restart : nil
    }
}

/// A standby build as the agent runs it: one at a time.
public enum CloneState: Sendable, Equatable {
    case idle
    /// Running; its progress once the first report came.
    case building(CloneProgress?)
    case failed(RejoinFailure)

    public var isBuilding: Bool { if case .building = self { true } else { false } }
    /// The progress of the build that runs, if it reported any.
    public var progress: CloneProgress? { if case .building(let progress) = self { progress } else { nil } }
}

/// Work during which the leader lease is renewed beside the loop (`LocalWork.leaseWorkUnderway`).
public enum LeaseWork: String, Sendable, Equatable {
    case promotion, fence, restart
}
