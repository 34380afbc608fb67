import DRCore
import DRLab
import DRSystem
import Foundation

/// A database node of the lab a campaign runs against: where its clients connect.
public struct ChaosNode: Sendable, Equatable {
    public var name: String
    public var region: String
    public var host: String
    public var port: Int

    public init(name: String, region: String, host: String, port: Int) {
        self.name = name
        self.region = region
        self.host = host
        self.port = port
    }
}

/// What a campaign needs of a lab: its configuration, its database nodes, and a nemesis
/// that injects and heals each fault of a plan — the loopback lab (`ChaosNemesis`) and
/// regions as hosts (`ChaosHostsNemesis`) each in their own way, the operator's commands
/// alike for both.
public protocol ChaosTarget: Sendable {
    /// The lab's drctl.yaml, which the operator's commands and the checks read.
    var configFile: String { get }
    var nodes: [ChaosNode] { get }
    /// The drctl executable the lab's agents and the operator's commands run.
    var binary: String { get }
    /// The faults this lab can inject (a plan is drawn from these).
    var supportedFaults: Set<ChaosFault> { get }

    /// Injects `step`; an operator's request runs on in the background and its task
    /// returns what the command answered.
    func inject(_ step: ChaosPlan.Step) async throws -> Task<String, Never>?
    func heal(_ step: ChaosPlan.Step) async throws
}

extension ChaosTarget {
    public var supportedFaults: Set<ChaosFault> { Set(ChaosFault.allCases) }

    /// The operator's side of a campaign: `drctl switchover`, `pause`, `failover --to` and
    /// `rejoin`, run as an operator would, racing the faults.
    func operatorAction(_ step: ChaosPlan.Step) async throws -> Task<String, Never>? {
        let (binary, config, node) = (binary, configFile, step.node)
        switch step.fault {
        case .switchover:
            // To the step's node; when that one is the primary already, away from it.
            let others = nodes.map(\.name).filter { $0 != node }
            return Task {
                func command(_ target: String) -> [String] { [binary, "switchover", "--to", target, "--yes", "--config", config] }
                let first = await Self.outcome(of: command(node))
                guard first.contains("already the primary"), let other = others.first else { return first }
                return "to \(other): " + (await Self.outcome(of: command(other)))
            }
        case .pause:
            _ = try await CommandRunner.run([binary, "pause", "--yes", "--config", config])
            return nil
        case .failover:
            let command = [binary, "failover", "--to", node, "--yes", "--config", config]
            return Task { await Self.outcome(of: command) }
        case .rejoin:
            let command = [binary, "rejoin", node, "--yes", "--config", config]
            return Task { await Self.outcome(of: command) }
        default:
            return nil
        }
    }

    /// The end of an operator's step: a pause is resumed; the others end by themselves.
    func endOperatorAction(_ step: ChaosPlan.Step) async throws {
        if step.fault == .pause { _ = try await CommandRunner.run([binary, "resume", "--yes", "--config", configFile]) }
    }

    /// What an operator's command answered: its exit status and last line.
    static func outcome(of command: [String]) async -> String {
        do {
            let output = try await CommandRunner.run(command, check: false)
            let text = (output.stdout + output.stderr).split(separator: "\n").last.map(String.init) ?? ""
            return "exit \(output.status): \(text)"
        } catch {
            return "could not run: \(error)"
        }
    }
}

extension ChaosFault {
    /// The network cut a cut-kind fault makes (both labs have the same kinds); `.full` for
    /// `isolate-region` and anything else.
    var cut: LabCut {
        switch self {
        case .cutEtcd: .etcd
        case .cutReplication: .replication
        case .loseEtcdAnswers: .etcdAnswers
        default: .full
        }
    }
}
