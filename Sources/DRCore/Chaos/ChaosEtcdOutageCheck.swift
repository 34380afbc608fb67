/// Failsafe's promise, judged from the clients' acknowledgements: an etcd outage on its own
/// — etcd killed when it has one member, its leader killed when it has more, or one region's
/// link to it cut or made one-way — stops no writes.
extension ChaosChecker {
    /// - Parameters:
    ///   - steps: the campaign's schedule; an outage counts only when no other fault runs
    ///     within `isolation` seconds of it, and a primary acknowledged writes just before.
    ///   - etcdMembers: with one member, `kill-etcd` is all of etcd.
    ///   - leaseTTL: a pause this long means the primary stopped (it fences 1 interval earlier).
    public static func etcdOutagesStoppedNoWrites(
        acks: [Ack], steps: [ChaosPlan.Step], etcdMembers: Int, leaseTTL: Double, isolation: Double = 5
    ) -> Property {
        let name = "an etcd outage alone stops no writes (failsafe)"
        let outages = steps.filter { step in
            switch step.fault {
            case .killEtcd: etcdMembers == 1
            case .killEtcdLeader, .cutEtcd, .loseEtcdAnswers: true
            default: false
            }
        }
        let times = acks.map(\.ackedAt).sorted()
        var judged: [(step: ChaosPlan.Step, pause: Double)] = []
        for outage in outages {
            let end = outage.at + max(outage.healAfter, leaseTTL)
            let alone = steps.allSatisfy { other in
                other == outage || other.at + other.healAfter + isolation < outage.at || other.at - isolation > end
            }
            guard alone, times.contains(where: { $0 < outage.at && $0 > outage.at - 2 }) else { continue }
            // From the last acknowledgement before the outage to the first after its end.
            let before = times.last { $0 <= outage.at } ?? outage.at
            let during = times.filter { $0 > outage.at && $0 <= end }
            let after = times.first { $0 > end }.map { [$0] } ?? []
            let points = [before] + during + after
            let pause = zip(points.dropFirst(), points).map { $0 - $1 }.max() ?? (end - before)
            judged.append((outage, pause))
        }
        guard let worst = judged.max(by: { $0.pause < $1.pause }) else {
            return Property(name: name, passed: true, detail: "not judged: no etcd outage ran alone in this schedule")
        }
        let detail = String(
            format: "%d outage(s) alone, longest write pause %.2f s (%@ %@ at %.1f s; lease TTL %.1f s)", judged.count, worst.pause,
            worst.step.fault.rawValue, worst.step.node, worst.step.at, leaseTTL)
        return Property(name: name, passed: worst.pause < leaseTTL, detail: detail)
    }
}
