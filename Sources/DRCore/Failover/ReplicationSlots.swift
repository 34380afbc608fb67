/// The physical replication slots the leader's database keeps: one per other node of the
/// configuration outside cold regions (named as that node's `primary_slot_name`), so a
/// standby that restarts, or an old primary coming back to be rewound, finds the WAL it
/// needs; and none for nodes removed from the configuration, whose slots would keep WAL
/// forever. Active slots, logical slots and the names in `replica.ignore_slots` (a
/// pg_receivewal, a tool of the operator's) are never dropped.
public enum ReplicationSlots {
    /// The slot a node streams through.
    public static func name(of node: String) -> String { node.replacing("-", with: "_") }

    /// What to create and what to drop on the leader's database, given its slots now.
    public static func plan(existing: [ReplicationSlot], leader: String, nodes: [String], ignored: Set<String>) -> (create: [String], drop: [String]) {
        let wanted = Set(nodes.filter { $0 != leader }.map(name(of:)))
        let present = Set(existing.map(\.name))
        let create = wanted.subtracting(present).sorted()
        let drop = existing.filter { slot in
            slot.type == "physical" && !slot.active && !wanted.contains(slot.name) && !ignored.contains(slot.name)
        }.map(\.name).sorted()
        return (create, drop)
    }
}
