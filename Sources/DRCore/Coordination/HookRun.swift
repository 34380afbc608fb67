/// One run of a hook (`hooks:`), as recorded in etcd's history (`events/hooks/`) and shown by
/// `drctl history`: which node ran what for which role under which term, and how it ended.
public struct HookRun: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Equatable, Codable {
        /// The command exited 0.
        case succeeded
        /// It exited non-zero, or was killed by a signal.
        case failed
        /// It outlived `hooks.timeout`: its process group was killed.
        case timedOut = "timed-out"
        /// Not run: by its turn, the role or term it was for had changed (a newer change's
        /// hook runs instead).
        case superseded
        /// `/bin/sh` could not be started.
        case notStarted = "not-started"
    }

    public var node: String
    public var event: HooksConfig.Event
    /// `primary`, `replica`, `fenced` or `down`.
    public var role: String
    /// The leader term the role change happened under (nil: no leader known).
    public var term: Int64?
    /// Wall-clock milliseconds when it started (or was skipped): for people only.
    public var startedAtMillis: Int64
    public var seconds: Double
    public var outcome: Outcome
    /// The exit status (or 128 + the signal), when it ran to an end.
    public var exitStatus: Int32?
    /// The end of what it wrote to standard output and error, at most 500 characters.
    public var output: String

    public init(
        node: String, event: HooksConfig.Event, role: String, term: Int64?, startedAtMillis: Int64, seconds: Double, outcome: Outcome,
        exitStatus: Int32?, output: String
    ) {
        self.node = node
        self.event = event
        self.role = role
        self.term = term
        self.startedAtMillis = startedAtMillis
        self.seconds = seconds
        self.outcome = outcome
        self.exitStatus = exitStatus
        self.output = output
    }

    enum CodingKeys: String, CodingKey {
        case node, event, role, term, seconds, outcome, output
        case startedAtMillis = "started_at_ms", exitStatus = "exit_status"
    }
}
