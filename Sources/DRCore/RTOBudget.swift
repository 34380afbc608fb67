/// The worst-case time from a primary's failure until clients reach the new primary, built
/// from the configuration alone, so an operator learns before an outage whether the
/// objectives can be met.
public struct RTOBudget: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var name: String
        public var duration: Duration
        public var why: String
    }

    public var items: [Item]
    public var objective: Duration

    public var total: Duration { items.reduce(.zero) { $0 + $1.duration } }
    public var fits: Bool { total <= objective }

    /// Detection is the slower of the two ways a failure is noticed: the primary's own agent
    /// failing `failures` checks in a row, or — when the whole node is lost — the leader lease
    /// running out. DNS adds the update time plus the longest TTL, since resolvers may serve
    /// the old answer that long.
    public static func compute(for config: ClusterConfig) -> RTOBudget {
        let checks = config.health.interval * config.health.failures
        let lease = config.coordination.leaseTTL
        var items = [
            Item(
                name: "detection", duration: max(checks, lease),
                why: "max(health checks \(config.health.failures) x \(DurationText.format(config.health.interval)) = \(DurationText.format(checks)), lease TTL \(DurationText.format(lease)))"),
            Item(name: "promotion", duration: config.failover.promotionTimeout, why: "failover.promotion_timeout"),
        ]
        if let ttl = config.dns.records.map(\.ttl).max() {
            items.append(Item(name: "dns update", duration: config.failover.dnsUpdateTimeout, why: "failover.dns_update_timeout"))
            items.append(Item(name: "dns ttl", duration: ttl, why: "longest TTL of a managed record"))
        }
        return RTOBudget(items: items, objective: config.objectives.rto)
    }
}

/// A configuration that validates but will not behave as the operator likely intends.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    /// Every warning for a valid configuration; empty when nothing is suspicious.
    public static func all(for config: ClusterConfig) -> [ConfigWarning] {
        var warnings: [ConfigWarning] = []
        let budget = RTOBudget.compute(for: config)
        if !budget.fits {
            warnings.append(
                .init(
                    message:
                        "the RTO budget \(DurationText.format(budget.total)) exceeds the RTO objective \(DurationText.format(config.objectives.rto)): shorten the health interval, the lease TTL or the DNS TTL"
                ))
        }
        if config.coordination.leaseTTL < config.health.interval * 3 {
            warnings.append(
                .init(
                    message:
                        "lease_ttl \(DurationText.format(config.coordination.leaseTTL)) is under 3 health intervals (\(DurationText.format(config.health.interval * 3))): one slow loop could cost the primary its lease and fence it"
                ))
        }
        if config.coordination.endpoints.count < 3 {
            warnings.append(
                .init(message: "\(config.coordination.endpoints.count) etcd endpoint(s): production needs a cluster of 3 or 5 members spread over regions, or losing etcd stops automatic failover"))
        }
        let candidates = config.regions.filter { $0.role != .cold }.flatMap(\.nodes).filter { !$0.tags.contains(.nofailover) }
        if candidates.count < 2 {
            warnings.append(.init(message: "fewer than two nodes may be promoted: automatic failover has no candidate, and recovery means restoring a backup"))
        }
        if config.backup == nil {
            warnings.append(.init(message: "no backup repository is configured: a complete disaster cannot be recovered"))
        }
        for record in config.dns.records where record.ttl > .seconds(60) {
            warnings.append(
                .init(message: "DNS record \(record.name) has TTL \(DurationText.format(record.ttl)): resolvers may keep sending clients to the old primary that long (60s or less is recommended)"))
        }
        return warnings
    }
}
