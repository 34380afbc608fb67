import ArgumentParser
import DRCommandLine
import DRCoordination
import DRCore
import DRDNS
import Foundation

struct DNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns", abstract: "The managed DNS records: what they point to, and a guarded manual switch.",
        subcommands: [DNSStatusCommand.self, DNSSwitchCommand.self])
}

/// One row of `drctl dns status --json` (the CLI contract's shape, docs/design.md, plus the target node and any error).
struct DNSStatusRow: Encodable {
    var record: String
    var type: String
    var current: String?
    var desired: String?
    var inSync: Bool
    var desiredNode: String?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case record, type, current, desired, error
        case inSync = "in_sync", desiredNode = "desired_node"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(record, forKey: .record)
        try c.encode(type, forKey: .type)
        try c.encode(current, forKey: .current)
        try c.encode(desired, forKey: .desired)
        try c.encode(inSync, forKey: .inSync)
        try c.encode(desiredNode, forKey: .desiredNode)
        try c.encode(error, forKey: .error)
    }
}

struct DNSStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Each managed record: what the provider serves, what it should, and whether they agree. Exit 1 unless all agree.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (_, config) = try options.loadConfig()
        guard !config.dns.records.isEmpty else {
            if options.json { return try JSONOutput.print([DNSStatusRow]()) }
            return print("no DNS records are managed (dns.records is empty)")
        }
        let rows = try await Self.rows(config)
        if options.json {
            try JSONOutput.print(rows)
        } else {
            print(
                TextTable.render(
                    ["RECORD", "TYPE", "CURRENT", "DESIRED", "NODE", "IN SYNC"],
                    rows.map { row in
                        [row.record, row.type, row.current ?? "-", row.desired ?? "-", row.desiredNode ?? "-", row.inSync ? "yes" : "NO"]
                    }))
            for row in rows { if let error = row.error { print("\(row.record): \(error)") } }
        }
        if rows.contains(where: { !$0.inSync }) { throw CLIExit.unhealthy }
    }

    /// Each managed record as the provider serves it against what it should be now.
    static func rows(_ config: ClusterConfig) async throws -> [DNSStatusRow] {
        let switcher: DNSSwitcher
        do { switcher = try DNSSwitcher(config: config) } catch { throw CLIExit.failed("\(error)") }
        var leader: String?, members: [MemberRecord] = [], etcdProblem: String?
        do {
            let etcd = try EtcdCoordinator.forConfig(config)
            leader = try await etcd.leader()?.node
            members = try await etcd.members()
        } catch {
            etcdProblem = "cannot read the leader from etcd: \(error)"
        }
        let deadline = ContinuousClock().now + .seconds(10)
        var rows: [DNSStatusRow] = []
        for desired in DNSTargets.desired(config, leader: leader, members: members) {
            var row = DNSStatusRow(
                record: desired.record.name, type: desired.record.type.rawValue, current: nil,
                desired: desired.recordSet?.values.joined(separator: ","), inSync: false, desiredNode: desired.node,
                error: etcdProblem ?? desired.problem)
            do {
                guard let provider = switcher.providers[desired.record.provider] else { throw CLIExit.failed("no provider \(desired.record.provider)") }
                let current = try await provider.read(name: desired.record.name, type: desired.record.type, deadline: deadline)
                row.current = current?.values.joined(separator: ",")
                if let current, let wanted = desired.recordSet {
                    row.inSync = current.matches(wanted)
                    if !row.inSync, current.values == wanted.values { row.error = row.error ?? "TTL \(current.ttlSeconds)s, configured \(wanted.ttlSeconds)s" }
                }
            } catch {
                row.error = "\(error)"
            }
            rows.append(row)
        }
        return rows
    }
}

struct DNSSwitchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch",
        abstract: "Point a managed record at a node by hand, under the leader term read from etcd (refused without a leader unless --force).")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The managed record, e.g. db.example.com.")
    var record: String

    @Option(name: .long, help: "The node whose address the record gets.")
    var to: String

    @Flag(name: .long, help: "Switch even with no leader or etcd unreachable (coordination is gone).")
    var force = false

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let name = FQDN.normalized(record)
        guard let binding = config.dns.records.first(where: { $0.name == name }) else {
            throw CLIExit.badInput("no managed record named \(name) (managed: \(config.dns.records.map(\.name).joined(separator: ", ")))")
        }
        guard let node = config.node(named: to)?.node else {
            throw CLIExit.badInput("--to: no node named \"\(to)\" (nodes: \(config.nodes.map(\.node.name).joined(separator: ", ")))")
        }
        let set: DNSRecordSet
        switch DNSTargets.recordSet(binding, pointingAt: node) {
        case .success(let built): set = built
        case .failure(let error): throw CLIExit.badInput(error.message)
        }
        let etcd = try? EtcdCoordinator.forConfig(config)
        var leader: LeaderRecord?
        do {
            leader = try await etcd?.leader()
        } catch  where force {
            print("etcd unreachable (\(error)); --force: switching without a term")
        } catch {
            throw CLIExit.failed("cannot read the leader term from etcd: \(error); with coordination gone, --force switches anyway")
        }
        if leader == nil, !force { throw CLIExit.failed("no node holds the leader key: refusing to move \(name) (use --force when coordination is gone)") }
        let termText = leader.map { "term \($0.term), leader \($0.node)" } ?? "no term (--force)"
        var plan = "\(name) -> \(set.values.joined(separator: ",")) (node \(node.name), TTL \(set.ttlSeconds)s) via \(binding.provider), under \(termText)"
        if binding.target == .primary, let leader, leader.node != node.name {
            plan += "\nwarning: \(node.name) does not hold the leader key (\(leader.node) does): clients of \(name) will reach a node that may not accept writes"
        }
        guard try change.proceed(plan, question: "Switch \(name) to \(node.name)?", cluster: config.cluster) else { return }

        let switcher: DNSSwitcher
        do { switcher = try DNSSwitcher(config: config) } catch { throw CLIExit.failed("\(error)") }
        let expected = leader
        let outcomes = await switcher.apply(
            [(binding.provider, set)], comment: "drctl dns switch by operator (\(termText))",
            deadline: ContinuousClock().now + config.failover.dnsUpdateTimeout + .seconds(10)
        ) {
            guard let expected, let etcd else { return nil }
            guard let now = try? await etcd.leader() else { return "refused: cannot confirm \(termText) in etcd" }
            return now == expected ? nil : "refused: the leader changed meanwhile (now \(now.node), term \(now.term))"
        }
        guard let outcome = outcomes.first else { throw CLIExit.failed("nothing was switched") }
        if let error = outcome.error { throw CLIExit.failed(error) }
        print(outcome.switchedAt == nil ? "\(name) already pointed at \(node.name); verified" : "\(name) switched to \(node.name) and verified")
    }
}
