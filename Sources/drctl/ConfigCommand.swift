import ArgumentParser
import DRCommandLine
import DRCore
import Foundation

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with the configuration file.", subcommands: [ConfigCheck.self])
}

struct ConfigCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration; print topology, objectives and the RTO budget. Exit 2 on any problem.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (path, config) = try options.loadConfig()
        let budget = RTOBudget.compute(for: config)
        let warnings = ConfigWarning.all(for: config)
        if options.json {
            try JSONOutput.print(ConfigCheckReport(path: path, config: config, budget: budget, warnings: warnings))
        } else {
            print(ConfigSummary.render(path: path, config: config, budget: budget, warnings: warnings))
        }
    }
}

/// `config check --json`.
struct ConfigCheckReport: Encodable {
    struct Item: Encodable { var name: String; var seconds: Double; var why: String }
    struct Node: Encodable { var name: String; var region: String; var role: String; var host: String; var port: Int; var address: String?; var tags: [String] }
    var file: String
    var valid = true
    var cluster: String
    var rtoSeconds: Double
    var rpoSeconds: Double
    var nodes: [Node]
    var rtoBudget: [Item]
    var rtoBudgetTotalSeconds: Double
    var rtoBudgetFits: Bool
    var warnings: [String]

    init(path: String, config: ClusterConfig, budget: RTOBudget, warnings: [ConfigWarning]) {
        file = path
        cluster = config.cluster
        rtoSeconds = config.objectives.rto.seconds
        rpoSeconds = config.objectives.rpo.seconds
        nodes = config.nodes.map { region, node in
            Node(
                name: node.name, region: region.name, role: region.role.rawValue, host: node.connection.host,
                port: node.connection.port, address: node.address, tags: node.tags.map(\.rawValue).sorted())
        }
        rtoBudget = budget.items.map { Item(name: $0.name, seconds: $0.duration.seconds, why: $0.why) }
        rtoBudgetTotalSeconds = budget.total.seconds
        rtoBudgetFits = budget.fits
        self.warnings = warnings.map(\.message)
    }

    enum CodingKeys: String, CodingKey {
        case file, valid, cluster, nodes, warnings
        case rtoSeconds = "rto_seconds", rpoSeconds = "rpo_seconds", rtoBudget = "rto_budget"
        case rtoBudgetTotalSeconds = "rto_budget_total_seconds", rtoBudgetFits = "rto_budget_fits"
    }
}

/// The human form of `config check`: what the operator configured, read back.
enum ConfigSummary {
    static func render(path: String, config: ClusterConfig, budget: RTOBudget, warnings: [ConfigWarning]) -> String {
        let f = DurationText.format
        var lines = [
            "\(path): valid", "", "cluster \(config.cluster)",
            "objectives: RTO \(f(config.objectives.rto)), RPO \(f(config.objectives.rpo))",
            "coordination: etcd \(config.coordination.endpoints.joined(separator: ", ")); lease TTL \(f(config.coordination.leaseTTL)); prefix \(config.coordination.prefix)",
            "health: every \(f(config.health.interval)), failed after \(config.health.failures) in a row, timeout \(f(config.health.timeout)); checks: \(config.health.checks.map(describe).joined(separator: ", "))",
            "", "topology:",
        ]
        for region in config.regions {
            lines.append("  \(region.name) (\(region.role.rawValue), priority \(region.priority))\(region.nodes.isEmpty ? ": no nodes" : "")")
            for node in region.nodes {
                var line = "    \(node.name)  \(Conninfo.redacted(node.conninfo))"
                if let address = node.address { line += "  address \(address)" }
                if !node.tags.isEmpty { line += "  tags \(node.tags.map(\.rawValue).sorted().joined(separator: ","))" }
                lines.append(line)
            }
        }
        if !config.dns.records.isEmpty {
            lines.append("dns:")
            for record in config.dns.records {
                let kind = config.dns.providers.first { $0.name == record.provider }?.kind.rawValue ?? "?"
                lines.append("  \(record.name) \(record.type.rawValue) ttl \(f(record.ttl)) -> \(record.target) via \(record.provider) (\(kind))")
            }
        }
        if let backup = config.backup {
            lines.append("backup: \(backup.repository) in \(backup.repositoryRegion) (allowed regions: \(backup.allowedRegions.joined(separator: ", ")))")
        }
        lines.append("")
        lines.append("RTO budget (worst case, from the configuration):")
        let rows =
            budget.items.map { ["  " + $0.name, f($0.duration), $0.why] }
            + [["  total", f(budget.total), "objective \(f(budget.objective)): " + (budget.fits ? "fits" : "DOES NOT FIT")]]
        lines.append(TextTable.render(["", "", ""], rows).split(separator: "\n").dropFirst().joined(separator: "\n"))
        if !warnings.isEmpty {
            lines.append("")
            lines.append("warnings:")
            lines += warnings.map { "  - \($0.message)" }
        }
        lines += ["", "every key, its unit, default and when to change it: \(ConfigKeys.reference)"]
        return lines.joined(separator: "\n")
    }

    private static func describe(_ check: HealthCheck) -> String {
        switch check {
        case .postgres: "postgres"
        case .tcp(let target): "tcp \(target)"
        case .http(let url): "http \(url)"
        }
    }
}
