import DRSystem
import Foundation

/// What a failed test on regions as hosts keeps for whoever reads it afterwards: the state
/// of every layer a connection crosses, taken while the lab still runs (its teardown takes
/// the namespaces, their rules and sockets with it).
extension RegionHostsLab {
    /// Writes, under `directory`: per host, its nftables ruleset and its TCP connection table
    /// with owners and timers (the relay's sockets among them); the replication views of both
    /// databases, each asked from its own host; and copies of every log the lab writes
    /// (agents, relays, databases, etcd members, PowerDNS). Best effort: a step that fails
    /// writes its error in its place, so a broken lab still leaves what could be read.
    /// Returns `directory`.
    @discardableResult
    public func keepDiagnostics(in directory: String) async -> String {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func keep(_ name: String, _ text: String) {
            try? text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
        }
        func output(_ region: String, _ command: [String]) async -> String {
            do {
                let result = try await run(in: region, command, check: false)
                return "$ \(command.joined(separator: " "))\n(exit \(result.status))\n\(result.stdout)\(result.stderr)"
            } catch {
                return "$ \(command.joined(separator: " "))\nnot run: \(error)"
            }
        }
        for host in hosts.hosts {
            keep("\(host.region)-nft.txt", await output(host.region, ["nft", "list", "ruleset"]))
            keep("\(host.region)-tcp.txt", await output(host.region, ["ss", "-tanpoi"]))
            keep("\(host.region)-conntrack.txt", await output(host.region, ["cat", "/proc/net/nf_conntrack"]))
        }
        let views = [
            "pg_stat_replication": "SELECT * FROM pg_stat_replication",
            "pg_stat_wal_receiver": "SELECT * FROM pg_stat_wal_receiver",
            "pg_stat_activity": "SELECT pid, backend_type, state, client_addr, client_port, backend_start, state_change, wait_event FROM pg_stat_activity",
            "pg_replication_slots": "SELECT * FROM pg_replication_slots",
        ]
        for database in databases {
            var text = ""
            for (name, sql) in views.sorted(by: { $0.key < $1.key }) {
                // Over the local socket path of its own host: what the server says, not the network.
                text += "== \(name)\n"
                text += await output(
                    database.region, ["psql", "host=\(database.host) port=\(database.port) user=postgres dbname=postgres connect_timeout=3", "-X", "-x", "-c", sql])
                text += "\n"
            }
            keep("\(database.name)-views.txt", text)
            try? copyLog(database.logFile, to: "\(directory)/\(database.name)-postgres.log")
        }
        for region in Self.regions {
            try? copyLog("\(agentDir(region))/agent.log", to: "\(directory)/\(region)-agent.log")
            try? copyLog("\(dir)/\(region)/relay-\(region).log", to: "\(directory)/\(region)-relay.log")
        }
        for member in members {
            let region = hosts.hosts.first { $0.namespace == member.namespace }?.region ?? member.host
            try? copyLog(member.logFile, to: "\(directory)/\(region)-etcd.log")
        }
        if let dns { try? copyLog(dns.logFile, to: "\(directory)/dns-pdns.log") }
        return directory
    }

    private func copyLog(_ source: String, to destination: String) throws {
        guard FileManager.default.fileExists(atPath: source) else { return }
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }
}
