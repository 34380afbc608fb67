import DRCore
import DRLab
import DRSystem
import Foundation

/// The campaign's faults on regions as hosts (`drctl-lab up --hosts`): a node's fault hits
/// its region's host — its namespace's processes, found by PID, and its nftables cuts. The
/// campaign runs inside region3 (the witness), whose clients reach both databases across the
/// relays; a repository fault has no place here (this lab has no backups yet).
public struct ChaosHostsNemesis: ChaosTarget {
    public let lab: RegionHostsLab
    public let binary: String

    public init(lab: RegionHostsLab, binary: String) {
        self.lab = lab
        self.binary = binary
    }

    public var configFile: String { lab.configFile }
    public var nodes: [ChaosNode] { lab.databases.map { ChaosNode(name: $0.name, region: $0.region, host: $0.host, port: $0.port) } }
    public var supportedFaults: Set<ChaosFault> { Self.faults }
    /// Every fault but the repository's (this lab has no backups yet).
    public static let faults = Set(ChaosFault.allCases).subtracting([.fillRepository])

    public func inject(_ step: ChaosPlan.Step) async throws -> Task<String, Never>? {
        let database = try self.database(step.node)
        let region = database.region
        switch step.fault {
        case .killNode:
            try await lab.loseHost(region)
        case .reboot:
            try await lab.loseHost(region)
            try await lab.restoreHost(region)
        case .killPostmaster:
            if let pid = try lab.server(database).pid { await Self.kill(pid) }
        case .freezePostgres:
            for pid in try serverProcesses(database) { Foundation.kill(pid, SIGSTOP) }
        case .freezePostmaster:
            if let pid = try lab.server(database).pid { Foundation.kill(pid, SIGSTOP) }
        case .freezeAgent:
            try lab.freezeAgent(region, true)
        case .isolateRegion, .cutEtcd, .cutReplication, .loseEtcdAnswers:
            try await lab.isolate(region, step.fault.cut)
        case .killEtcd:
            try await lab.killEtcd(region)
        case .killEtcdLeader:
            try await lab.killEtcd()
        case .stallDNS:
            if let pid = lab.dns?.pid { Foundation.kill(pid, SIGSTOP) }
        case .restartAgent:
            if let pid = lab.agentPID(region) {
                Foundation.kill(pid, SIGTERM)
                _ = await ProcessControl.waitForExit(pid, within: .seconds(15))
            }
        case .fillRepository:
            throw LabError.io("the regions lab has no backup repository to fill")
        case .switchover, .pause, .failover, .rejoin:
            return try await operatorAction(step)
        }
        return nil
    }

    public func heal(_ step: ChaosPlan.Step) async throws {
        let database = try self.database(step.node)
        let region = database.region
        switch step.fault {
        case .killNode, .reboot:
            try await lab.restoreHost(region)
        case .killPostmaster:
            // Init starting it again (the agent may have restarted or rejoined it already).
            try await lab.startDatabase(database)
        case .freezePostgres:
            for pid in try serverProcesses(database) { Foundation.kill(pid, SIGCONT) }
        case .freezePostmaster:
            // Whatever the fence did meanwhile: a killed postmaster has nothing to continue.
            if let pid = try lab.server(database).pid { Foundation.kill(pid, SIGCONT) }
        case .freezeAgent:
            try lab.freezeAgent(region, false)
        case .isolateRegion:
            try await lab.heal(region)
        case .cutEtcd, .cutReplication, .loseEtcdAnswers:
            try await lab.heal(region, step.fault.cut)
        case .killEtcd, .killEtcdLeader:
            try await lab.startStoppedEtcdMembers()
        case .stallDNS:
            if let pid = lab.dns?.pid { Foundation.kill(pid, SIGCONT) }
        case .restartAgent:
            if !(lab.agentPID(region).map(ProcessControl.isAlive) ?? false) { try lab.startAgent(of: database, binary: binary) }
        case .fillRepository:
            break
        case .switchover, .failover, .rejoin, .pause:
            try await endOperatorAction(step)
        }
    }

    private func database(_ name: String) throws -> RegionHostsLab.Database {
        guard let database = lab.databases.first(where: { $0.name == name }) else { throw LabError.io("no database named \(name) in the regions lab") }
        return database
    }

    /// The postmaster and its backends (none when it does not run).
    private func serverProcesses(_ database: RegionHostsLab.Database) throws -> [Int32] {
        guard let pid = try lab.server(database).pid else { return [] }
        return [pid] + LabProcesses.children(of: pid)
    }

    private static func kill(_ pid: Int32) async {
        Foundation.kill(pid, SIGKILL)
        _ = await ProcessControl.waitForExit(pid, within: .seconds(5))
    }
}
