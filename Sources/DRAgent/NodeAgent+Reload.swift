import DRCore
import DRDNS

/// A reloaded configuration (SIGHUP, `drctl reload`) reaches the loop between two loops:
/// one decision is never made half under the old settings and half under the new.
extension NodeAgent {
    /// Takes `config` (already reviewed by `ConfigReload`: the same nodes and etcd) at the
    /// start of the next loop.
    public func reload(_ config: ClusterConfig, hash: String) {
        reloaded = (config, hash)
    }

    /// Sets the hash the member record publishes (at start).
    public func setConfigHash(_ hash: String) { configHash = hash }

    func applyReloadedConfig() {
        guard let (next, hash) = reloaded else { return }
        reloaded = nil
        guard let entry = next.node(named: node.name) else {
            log.error("the reloaded configuration has no node \(node.name); keeping the running one")
            return
        }
        config = next
        region = entry.region
        node = entry.node
        policy = FailoverPolicy(next)
        database = database.reconfigured(next, node: entry.node)
        dns = Result { try DNSSwitcher(config: next) }
        configHash = hash
        walHistory.span = WALHistory.span(rpo: next.objectives.rpo)
        if case .failure(let error) = dns {
            log.error("DNS providers could not be built from the reloaded configuration", metadata: ["error": "\(error)"])
        }
    }
}
