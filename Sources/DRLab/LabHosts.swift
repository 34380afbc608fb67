import DRCore
import DRSystem
import Foundation

/// Regions as separate hosts (issue 12, first part): one network namespace per region,
/// joined by a bridge that lives in a namespace of its own, on a private subnet that exists
/// only inside those namespaces — the root namespace gets no address, link or rule.
///
/// Inter-region latency: in each region's namespace nftables redirects the connections it
/// opens to another region to a `DelayRelay` listening there (its own connections carry
/// `relayMark`, which the rule skips), so every connection crosses exactly one relay and
/// its round trip grows by twice the relay's one-way delay.
public struct LabHosts: Codable, Sendable, Equatable {
    public struct Host: Codable, Sendable, Equatable {
        public var region: String
        public var namespace: String
        public var address: String
    }

    /// Every namespace's name starts with this (derived from the lab's directory).
    public var prefix: String
    public var bridgeNamespace: String
    public var hosts: [Host]
    public static let subnet = "10.213.0"
    public static let relayMark: Int32 = 0x2b1

    /// Names and addresses for `regions` (the k-th gets `10.213.0.(k+1)`).
    public static func plan(dir: String, regions: [String]) -> LabHosts {
        let prefix = "drctl-\(StableHash.hex(dir).prefix(6))-"
        let hosts = regions.enumerated().map { index, region in
            Host(region: region, namespace: prefix + region, address: "\(subnet).\(index + 2)")
        }
        return LabHosts(prefix: prefix, bridgeNamespace: prefix + "bridge", hosts: hosts)
    }

    /// Creates the namespaces, the bridge and one veth pair per region. Removes whatever it
    /// made when a step fails.
    public func create() async throws {
        guard getuid() == 0 else { throw LabError.io("regions as hosts need root (network namespaces)") }
        do {
            try await ip(["netns", "add", bridgeNamespace])
            try await ip(["-n", bridgeNamespace, "link", "set", "lo", "up"])
            try await ip(["-n", bridgeNamespace, "link", "add", "br0", "type", "bridge"])
            try await ip(["-n", bridgeNamespace, "link", "set", "br0", "up"])
            for (index, host) in hosts.enumerated() {
                try await ip(["netns", "add", host.namespace])
                try await ip(["-n", host.namespace, "link", "set", "lo", "up"])
                let port = "p\(index)"
                try await ip(["-n", bridgeNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.namespace])
                try await ip(["-n", bridgeNamespace, "link", "set", port, "master", "br0", "up"])
                try await ip(["-n", host.namespace, "addr", "add", "\(host.address)/24", "dev", "eth0"])
                try await ip(["-n", host.namespace, "link", "set", "eth0", "up"])
            }
        } catch {
            await remove()
            throw error
        }
    }

    /// Delays the connections `host` opens to the other regions through a relay listening on
    /// `relayPort` in its namespace (see the type's note).
    public func delayOutgoing(from host: Host, relayPort: Int) async throws {
        let others = hosts.filter { $0 != host }.map(\.address).joined(separator: ", ")
        let rules = """
            table ip drctl_delay {
              chain out {
                type nat hook output priority -100; policy accept;
                meta mark \(Self.relayMark) return
                ip daddr { \(others) } tcp dport != 0 redirect to :\(relayPort)
              }
            }

            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(host.namespace)-delay.nft").path
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await CommandRunner.run(["ip", "netns", "exec", host.namespace, "nft", "-f", file])
    }

    /// Starts `drctl-lab relay` (the one beside the `drctl` at `binary`) in `host`'s
    /// namespace on `port`, delaying each direction by half of `latency` (a round trip), and
    /// redirects the region's outgoing inter-region connections to it (unless `redirect` is
    /// false: a host booting again keeps its rules). Returns its PID (also in
    /// `stateDir/relay-REGION.pid`).
    /// `drctl-lab` beside the `drctl` at `drctl` (both are built into one directory).
    public static func labExecutable(beside drctl: String) -> String {
        URL(fileURLWithPath: drctl).deletingLastPathComponent().appendingPathComponent("drctl-lab").path
    }

    @discardableResult
    public func startRelay(
        in host: Host, binary: String, latency: Duration, jitter: Duration = .zero, loss: Double = 0, port: Int = 7999, stateDir: String,
        redirect: Bool = true
    ) async throws -> Int32 {
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let pid = try ProcessControl.spawnDaemon(
            [
                "ip", "netns", "exec", host.namespace, Self.labExecutable(beside: binary), "relay", "--port", String(port), "--one-way", DurationText.format(latency / 2),
                "--jitter", DurationText.format(jitter / 2), "--loss", String(loss),
            ], logFile: "\(stateDir)/relay-\(host.region).log")
        try PIDFile.write(pid, to: "\(stateDir)/relay-\(host.region).pid")
        try await Readiness.wait(for: "the latency relay in \(host.region)", log: "\(stateDir)/relay-\(host.region).log", pid: pid) {
            (try? String(contentsOfFile: "\(stateDir)/relay-\(host.region).log", encoding: .utf8))?.contains("relaying on") == true
        }
        if redirect { try await delayOutgoing(from: host, relayPort: port) }
        return pid
    }

    /// Stops every process running in this lab's namespaces, then deletes them (their
    /// links, addresses and rules go with them) — also what a crashed lab left: anything
    /// named with the prefix. A namespace outlives its name while a process is in it.
    public func remove() async {
        for namespace in NetworkNamespace.list(prefix: prefix) {
            let pids = (try? await CommandRunner.run(["ip", "netns", "pids", namespace], check: false))?.stdout ?? ""
            let killed = pids.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
            for pid in killed { kill(pid, SIGKILL) }
            // Gone before anything else is removed: a process still exiting (initdb cleaning
            // up after its killed child) changes the lab directory under `down`'s feet.
            for pid in killed { _ = await ProcessControl.waitForExit(pid, within: .seconds(5)) }
            _ = try? await CommandRunner.run(["ip", "netns", "delete", namespace], check: false)
        }
    }

    /// What is left of this lab's namespaces (nothing, after `remove`).
    public var leftovers: [String] { NetworkNamespace.list(prefix: prefix) }

    private func ip(_ arguments: [String]) async throws {
        try await CommandRunner.run(["ip"] + arguments)
    }
}
