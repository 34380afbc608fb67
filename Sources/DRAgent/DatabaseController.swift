import DRCore

/// The database beside the agent, as the agent observes and changes it. Production drives
/// PostgreSQL through libpq and `pg_ctl` (`PostgresController`); the agent's tests use a
/// scripted database (`DRAgentTesting.ScriptedDatabase`) that fails, stalls and crashes on
/// cue, so every path of the agent can be walked without a server.
public protocol DatabaseController: Sendable {
    /// One health check: what the server answers, or why it did not.
    func observe() async -> ProbeResult
    /// Whether a postmaster process runs: false only when that is certain, nil when it
    /// cannot be known (no `data_dir`).
    func postmasterRunning() -> Bool?
    /// Waits up to `limit` for the running postmaster to exit; true when it did. Lets the
    /// leader react to a crash at once instead of at its next health check.
    func waitForExit(within limit: Duration) async -> Bool
    /// Promotes the standby and waits until it accepts writes, however long that takes;
    /// `slow` is called every promotion timeout meanwhile.
    func promote(slow: @escaping @Sendable (Duration) async -> Void) async throws
    /// Stops the database so it cannot accept writes, leaving `standby.signal` so no
    /// restart brings it back writable, and returns only with proof that no process of it is
    /// left (escalating to SIGKILL within `limit`); throws otherwise. Returns why that file
    /// could not be written, if so.
    @discardableResult func fence(within limit: Duration) async throws -> String?
    /// Leaves `standby.signal` in the running primary's data directory: ignored while it
    /// runs, it makes any later start (init after a power loss, an operator) come up
    /// read-only until the agent promotes it again under a valid lease.
    func guardRestart() throws
    /// Whether the data directory carries that `standby.signal` (true when there is no
    /// data directory to look at): observed for `decide`'s restart guard.
    func restartGuarded() -> Bool
    /// Stops the database with an immediate shutdown: a crash, for a confirmed failover drill.
    func crashForDrill() async throws
    /// Starts the crashed database again (without waiting for it).
    func restart() async throws
    /// Creates the physical replication slots `create` (when missing) and drops `drop`
    /// (only while inactive: a standby that connected meanwhile keeps its slot).
    func keepSlots(create: [String], drop: [String]) async throws
    /// Sets `synchronous_standby_names` (none: asynchronous).
    func setSynchronousStandbys(_ standbys: [String]) async throws
    /// Removes `drctl promote --force`'s marker once the node leads under a term.
    func clearForcedPromotion() async throws
    /// Points this standby's WAL receiver at `leader`.
    func follow(_ leader: NodeConfig) async throws
    /// Turns this stopped, fenced database into a standby of `leader` (rewinding it).
    func rejoin(_ leader: NodeConfig) async throws
    /// Whether the data directory holds no database (false when that cannot be known).
    func dataDirectoryEmpty() -> Bool
    /// Whether the server is in targeted archive recovery (`recovery.signal`): a restore.
    func archiveRecoveryUnderway() -> Bool
    /// Builds this node's database anew as a standby of `leader`, from the first of
    /// `sources` that works, and starts it; returns the source used and why others failed.
    func cloneStandby(_ leader: NodeConfig, from sources: [ReplicaConfig.Source], progress: @escaping @Sendable (CloneProgress) -> Void) async throws
        -> StandbyClone.Outcome
    /// Starts this stopped (fenced, or crashed) database read-only, `standby.signal` written
    /// first; a running one is left as it is, read-only since the fence.
    func startAsStandby() async throws
    /// Stops the primary cleanly for a switchover; returns where its WAL ends.
    func stopForHandover(within limit: Duration) async throws -> LSN
    /// Stops the running server cleanly (fast shutdown) and starts it again, waiting until
    /// it answers: a standby as a standby; `asPrimary` without `standby.signal` for this
    /// start (it runs as the primary on its own timeline), the guard written back once it runs.
    func restartInPlace(asPrimary: Bool) async throws
    /// The same server under a reloaded configuration (its time-outs, its repository).
    func reconfigured(_ config: ClusterConfig, node: NodeConfig) -> any DatabaseController
}

extension DatabaseController {
    /// Nothing the configuration sets: the same controller.
    public func reconfigured(_ config: ClusterConfig, node: NodeConfig) -> any DatabaseController { self }
}
