/// What operators asked of one node, as its agent last read etcd's intent keys.
///
/// The requests live in etcd, not in the agent: a restarted agent reads them again, and the
/// agent withdraws each once it is done (or refused), so none is acted on twice.
public struct NodeRequests: Sendable, Equatable {
    /// `drctl rejoin NODE`: rewind and follow the leader even without `auto_rejoin`.
    public var rejoin = false
    /// `drctl reinit NODE`: build the database anew as a standby of the leader.
    public var reclone = false
    /// A confirmed failover drill asked this node's agent to crash its primary database.
    public var drillCrash = false
    /// `drctl restart NODE`: restart the database in place.
    public var restart: RestartRequest? = nil

    public init(rejoin: Bool = false, reclone: Bool = false, drillCrash: Bool = false, restart: RestartRequest? = nil) {
        self.rejoin = rejoin
        self.reclone = reclone
        self.drillCrash = drillCrash
        self.restart = restart
    }

    /// `node`'s requests in `snapshot`.
    public init(node: String, in snapshot: CoordinationSnapshot) {
        self.init(
            rejoin: snapshot.rejoinRequested.contains(node), reclone: snapshot.reinitRequested.contains(node),
            drillCrash: snapshot.drillCrashRequested.contains(node), restart: snapshot.restartRequested[node])
    }
}
