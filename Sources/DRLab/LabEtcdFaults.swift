import DRSystem
import Foundation

/// The loss of an etcd member in the loopback lab (`lab kill-etcd`), and its restart.
extension Lab {
    /// SIGKILLs etcd member `member` (1-based, in `lab status` order), or the raft leader
    /// when nil. Returns the killed member's endpoint (nil: none ran or none led).
    public static func killEtcd(dir: String, member: Int?) async throws -> String? {
        let state = try LabState.load(dir: absolute(dir))
        let target: EtcdServer?
        if let member {
            guard state.etcd.indices.contains(member - 1) else { throw LabError.io("no etcd member \(member): the lab runs \(state.etcd.count)") }
            target = state.etcd[member - 1]
        } else {
            target = await EtcdServer.leader(of: state.etcd)
        }
        guard let target, let pid = target.pid, ProcessControl.isAlive(pid) else { return nil }
        Glibc.kill(pid, SIGKILL)
        _ = await ProcessControl.waitForExit(pid, within: .seconds(5))
        return target.endpoint
    }

    /// Starts every etcd member that does not run; returns their endpoints.
    public static func startStoppedEtcd(dir: String) async throws -> [String] {
        let state = try LabState.load(dir: absolute(dir))
        var started: [String] = []
        for member in state.etcd where !(member.pid.map(ProcessControl.isAlive) ?? false) {
            try await member.start()
            started.append(member.endpoint)
        }
        return started
    }
}
