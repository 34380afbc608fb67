/// Where etcd's raft leader should be, seen from the primary: not in the primary's region.
///
/// When the primary's region is lost and etcd's leader was its member, an etcd election and
/// etcd re-granting every lease its full TTL come on top of the lease expiry: region loss
/// then took about 8 s instead of 5 at a 5 s lease (issue 30). So the leader's agent moves
/// etcd's leadership away (etcd's MoveLeader) whenever it finds it beside the primary.
public enum EtcdLeaderPlacement {
    /// An etcd member as `member list` names it.
    public struct Member: Sendable, Equatable {
        public var id: String
        public var name: String
        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    /// The members etcd's leadership should move to, best first, or none when it may stay:
    /// it is not in `primaryRegion`, or the regions do not say where the members are, or no
    /// member is elsewhere. A region that runs no database that could be promoted (a cold or
    /// witness region: losing it costs neither a failover nor the primary's etcd) comes
    /// first, then the member's name, so every agent asks for the same one; the next is
    /// tried when etcd refuses one (a member that is down).
    public static func transferees(leaderID: String, members: [Member], primaryRegion: String, regions: [RegionConfig]) -> [Member] {
        let regionOf = Dictionary(regions.compactMap { region in region.etcdMember.map { ($0, region) } }, uniquingKeysWith: { first, _ in first })
        guard let leader = members.first(where: { $0.id == leaderID }), regionOf[leader.name]?.name == primaryRegion else { return [] }
        return
            members
            .filter { member in regionOf[member.name].map { $0.name != primaryRegion } == true }
            .sorted { a, b in
                let aWitness = regionOf[a.name].map(isWitness) == true
                let bWitness = regionOf[b.name].map(isWitness) == true
                if aWitness != bWitness { return aWitness }
                return a.name < b.name
            }
    }

    static func isWitness(_ region: RegionConfig) -> Bool { region.role == .cold || region.nodes.isEmpty }
}
