/// The agent's fences of its database, as one value: how many run now (the lease deadline
/// can start one while another runs, and the end of one must not end the other's lease
/// renewals) and whether the last to end failed — a failed fence leaves a server that may
/// still accept writes, and stays the state until a fence succeeds.
public enum FenceState: Sendable, Equatable {
    case idle
    /// `previousFailure`: why the last fence to end failed, while new ones run.
    case underway(count: Int, previousFailure: String?)
    case failed(String)

    /// A fence is running.
    public var isUnderway: Bool { if case .underway = self { true } else { false } }

    /// The last fence to end failed (the database may still accept writes).
    public var failed: Bool {
        switch self {
        case .idle: false
        case .failed: true
        case .underway(_, let previous): previous != nil
        }
    }

    public mutating func begin() {
        switch self {
        case .idle: self = .underway(count: 1, previousFailure: nil)
        case .failed(let why): self = .underway(count: 1, previousFailure: why)
        case .underway(let count, let previous): self = .underway(count: count + 1, previousFailure: previous)
        }
    }

    /// One fence ended: `failure` nil when it proved the database stopped.
    public mutating func end(failure: String?) {
        guard case .underway(let count, _) = self else { return }
        if count > 1 {
            self = .underway(count: count - 1, previousFailure: failure)
        } else {
            self = failure.map(FenceState.failed) ?? .idle
        }
    }
}

/// Where a promotion stands: the `pg_promote` call still running, or signalled and not yet
/// seen to end (the server may turn writable any moment, also after the agent stopped
/// waiting), until the database is seen primary or fenced.
public enum PromotionState: Sendable, Equatable {
    case idle
    case underway
    case signalled

    /// The promotion call is running.
    public var isUnderway: Bool { self == .underway }
    /// The server may turn writable (underway or signalled).
    public var mayTurnWritable: Bool { self != .idle }
}
