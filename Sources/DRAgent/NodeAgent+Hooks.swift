import DRCore

/// When the node's hooks run: `on_start` with the role the agent finds, `on_role_change`
/// when the role it reports changes, `on_stop` as it stops. A primary counts as
/// `primary` only once it leads under a term (a primary without the leader key is about to
/// be fenced or to claim it; announcing it would move a VIP to a node that may never lead).
extension NodeAgent {
    /// The role hooks are told: `primary` (leading), `replica`, `fenced` or `down`; nil for a
    /// primary not (yet) leading.
    func hookRole(_ local: LocalDatabase) -> String? {
        switch local.state {
        case .primary: leader?.node == node.name ? "primary" : nil
        case .standby: "replica"
        case .fenced: "fenced"
        case .down: "down"
        }
    }

    func runStartHook(_ local: LocalDatabase) {
        let role = local.state == .primary ? "primary" : hookRole(local) ?? "down"
        hookRoleAnnounced = role
        hooks.ask(.onStart, role: role, term: leader?.term, hooks: config.hooks, cluster: config.cluster)
    }

    /// After each loop: a changed role's hook, guarded by that role (and term) still holding
    /// when its turn comes.
    func runRoleChangeHook(_ local: LocalDatabase) {
        guard let role = hookRole(local), role != hookRoleAnnounced else { return }
        hookRoleAnnounced = role
        let term = leader?.term
        hooks.ask(.onRoleChange, role: role, term: term, hooks: config.hooks, cluster: config.cluster) { [weak self] in
            await self?.stillHolds(role: role, term: term) ?? false
        }
    }

    func stillHolds(role: String, term: Int64?) -> Bool {
        guard let local = lastLocal, hookRole(local) == role else { return false }
        return role != "primary" || leader?.term == term
    }

    func runStopHook() async {
        let role = lastLocal.flatMap(hookRole) ?? (lastLocal?.state == .primary ? "primary" : "down")
        await hooks.askAndWait(.onStop, role: role, term: leader?.term, hooks: config.hooks, cluster: config.cluster)
    }
}
