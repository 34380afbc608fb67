/// What a reload (SIGHUP, `drctl reload`) may change in a running agent, decided over the
/// running configuration and the file read again.
///
/// Live: the objectives, health checks and intervals, the failover settings other than
/// failsafe, DNS, backups and schedules, standby building, notifications, the log level,
/// and each node's tags and each region's priority. Everything else names what the agent
/// *is* or how it reaches the others — the cluster's name, etcd, the regions and nodes,
/// their addresses, data directories and API ports, failsafe and its secret — or is set
/// once per process (the log format), and takes a restart. A file that changes any of those is not applied at all: the agent keeps running
/// the configuration it has, whole, rather than one that matches neither file.
public struct ConfigReload: Sendable, Equatable {
    /// The sections that differ and will be applied (`objectives`, `health`, …), in
    /// configuration order; empty when the file says what is running.
    public var changed: [String]
    /// Why the file cannot be applied without a restart, one sentence each; empty when it can.
    public var needsRestart: [String]

    public init(changed: [String], needsRestart: [String]) {
        self.changed = changed
        self.needsRestart = needsRestart
    }

    /// Compares the running configuration with the one read again, for the agent of `region`.
    public static func review(running: ClusterConfig, loaded: ClusterConfig) -> ConfigReload {
        var restart: [String] = []
        func fixed<T: Equatable>(_ name: String, _ path: KeyPath<ClusterConfig, T>) {
            if running[keyPath: path] != loaded[keyPath: path] { restart.append("`\(name)` changed") }
        }
        fixed("cluster", \.cluster)
        fixed("coordination", \.coordination)
        fixed("failover.failsafe", \.failover.failsafe)
        fixed("failover.failsafe_secret", \.failover.failsafeSecret)
        fixed("log.format", \.log.format)
        if identities(running.regions) != identities(loaded.regions) {
            restart.append("the regions or their nodes changed (names, addresses, data directories, API ports): only tags and priorities change live")
        }
        var changed: [String] = []
        func live<T: Equatable>(_ name: String, _ path: KeyPath<ClusterConfig, T>) {
            if running[keyPath: path] != loaded[keyPath: path] { changed.append(name) }
        }
        live("objectives", \.objectives)
        live("regions (tags, priorities)", \.regions)
        live("health", \.health)
        live("failover", \.failover)
        live("dns", \.dns)
        live("backup", \.backup)
        live("schedules", \.schedules)
        live("replica", \.replica)
        live("notifications", \.notifications)
        live("log", \.log)
        live("hooks", \.hooks)
        return ConfigReload(changed: restart.isEmpty ? changed : [], needsRestart: restart)
    }

    /// The regions with what may change live blanked out.
    static func identities(_ regions: [RegionConfig]) -> [RegionConfig] {
        regions.map { region in
            var region = region
            region.priority = 0
            region.nodes = region.nodes.map { node in
                var node = node
                node.tags = []
                return node
            }
            return region
        }
    }
}
