extension ClockOffset {
    /// What `drctl status` and the status page say about clocks: the leader agent's clock
    /// against this host's (while its record says its database is a healthy primary, its
    /// progress is written at least every heartbeat, so an older stamp is the clock), and
    /// each other agent's against the leader's, as that agent measured and published it
    /// (`MemberRecord.clockOffsetSeconds`).
    /// - Parameter consequence: appended to each line, what an offset affects.
    public static func problems(
        leader: LeaderRecord?, progress: PrimaryProgress?, members: [MemberRecord], nowMillis: Int64, config: ClusterConfig, consequence: String? = nil
    ) -> [String] {
        let tail = consequence.map { ": " + $0 } ?? ""
        var problems: [String] = []
        let leaderRecord = members.first { $0.name == leader?.node }
        if let leader, let progress, progress.node == leader.node, let stamp = progress.publishedAtMillis,
            leaderRecord?.role == .primary, leaderRecord?.healthy == true
        {
            let tolerance = (PublicationSchedule.defaultHeartbeat + config.coordination.leaseTTL + config.health.interval).milliseconds + 1000
            let off = nowMillis - stamp
            if abs(off) > tolerance {
                problems.append("the clock of \(leader.node)'s agent differs from this host's by about \(Int((Double(abs(off)) / 1000).rounded()))s" + tail)
            }
        }
        for member in members.sorted(by: { $0.name < $1.name }) where member.name != leader?.node {
            guard let seconds = member.clockOffsetSeconds else { continue }
            let direction = seconds > 0 ? "ahead of" : "behind"
            let reference = leader.map { "the leader's (\($0.node))" } ?? "the last leader's"
            problems.append("the clock of \(member.name)'s agent is about \(abs(seconds))s \(direction) \(reference)" + tail)
        }
        return problems
    }
}
