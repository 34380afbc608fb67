/// `replica:` — how the agents build a standby for a node whose data directory is empty
/// (a lost disk, a new node) or that an operator re-initialises (`drctl reinit NODE`).
public struct ReplicaConfig: Sendable, Equatable {
    public enum Source: String, Sendable, Equatable, CaseIterable {
        /// `pg_basebackup` from the current primary, through the node's replication slot:
        /// no repository needed, but it reads the whole database from the primary.
        case primary
        /// The newest base backup in `backup.repository`, then the WAL archive, then
        /// streaming from the primary: the primary serves only the WAL since the backup.
        case repository
    }

    /// Tried in order; the first that works builds the standby.
    public var createFrom: [Source]
    /// Physical replication slots on the primary that drctl never drops, though no node is
    /// named after them (a pg_receivewal, an operator's tool).
    public var ignoreSlots: [String] = []

    public init(createFrom: [Source] = [.primary], ignoreSlots: [String] = []) {
        self.createFrom = createFrom
        self.ignoreSlots = ignoreSlots
    }
}

extension ReplicaConfig {
    static func parse(_ field: YAMLField, hasBackup: Bool) -> ReplicaConfig? {
        guard field.isPresent else { return ReplicaConfig() }
        guard let object = field.object(keys: ConfigKeys.replica) else { return nil }
        let ignored = object.has("ignore_slots") ? object["ignore_slots"].strings() : []
        guard object.has("create_from") else { return ignored.map { ReplicaConfig(ignoreSlots: $0) } }
        guard let items = object["create_from"].items() else { return nil }
        let sources = items.compactMap { $0.choice(Source.self) }
        guard sources.count == items.count else { return nil }
        if sources.isEmpty { object["create_from"].report("is empty: list at least one of primary, repository") }
        if Set(sources).count != sources.count { object["create_from"].report("names a source twice") }
        if sources.contains(.repository), !hasBackup { object["create_from"].report("names repository, but there is no backup: section") }
        guard let ignored else { return nil }
        return ReplicaConfig(createFrom: sources, ignoreSlots: ignored)
    }
}
