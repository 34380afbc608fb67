import DRBackup
import DRCoordination
import DRCore
import DRDNS
import DRHTTP
import DRPostgres
import DRSystem
import Foundation

/// Gathers what `PreflightRules` judges, from wherever it runs (`drctl preflight` on an
/// operator's host, or an agent beside its node), changing nothing.
public enum PreflightRunner {
    struct NoProvider: Error, CustomStringConvertible {
        var name: String
        var description: String { "no DNS provider named \(name) in dns.providers" }
    }

    /// Every observation at once; the slowest bounds the time.
    /// - Parameter localNodes: the nodes whose host this is (an agent's region): their
    ///   pg_ctl and free disk are checked here.
    public static func observe(_ config: ClusterConfig, sourceAddress: String? = nil, localNodes: [String] = []) async -> PreflightObservations {
        async let etcd = etcdRead(config, sourceAddress: sourceAddress)
        async let dns = dnsReads(config)
        async let credentials = dnsCredentialProblems(config)
        var nodes: [String: PreflightObservations.NodeRead] = [:]
        var refused: [String: String?] = [:]
        await withTaskGroup(of: (String, PreflightObservations.NodeRead, String?).self) { group in
            for (_, node) in config.nodes {
                group.addTask {
                    async let settings = PreflightProbe().settings(node: node.name, conninfo: node.conninfo)
                    async let refusal = replicationRefusal(conninfo: node.conninfo)
                    return (node.name, await settings, await refusal)
                }
            }
            for await (name, settings, refusal) in group {
                nodes[name] = settings
                refused[name] = .some(refusal)
            }
        }
        let (etcdRead, hashes, etcdMembers) = await etcd
        var observations = PreflightObservations(nodes: nodes, replicationRefused: refused, etcd: etcdRead, dnsReadFailed: await dns)
        observations.configHashes = hashes
        observations.etcdMemberNames = etcdMembers
        observations.dnsCredentialProblems = await credentials
        do { _ = try FailsafeAuthenticator.load(config) } catch { observations.failsafeSecretProblem = "\(error)" }
        for (_, node) in config.nodes where localNodes.contains(node.name) { observations.local[node.name] = await offThePool { localHost(node) } }
        observations.clockOffsets = await clockOffsets(config, skipping: localNodes)
        if config.backup != nil {
            let newest = nodes.values.compactMap { read -> String? in
                guard case .read(let settings) = read, !settings.inRecovery else { return nil }
                return settings.lastArchivedWAL
            }.max()
            if let newest {
                do {
                    observations.archiveFetch = await fetch(newest, from: try BackupRepository(config: config))
                } catch {
                    observations.archiveFetch = .failed(segment: newest, reason: "\(error)")
                }
            }
            if let repository = try? BackupRepository(config: config), let backups = try? await repository.list() {
                observations.archiveGaps = try? await WALArchive(repository: repository).gaps(from: backups)
            }
        }
        return observations
    }

    /// Each other node's agent clock against this host's, from its `/status` (an agent that
    /// does not answer is left out: `drctl status` reports those).
    static func clockOffsets(_ config: ClusterConfig, skipping local: [String]) async -> [String: PreflightObservations.ClockOffset] {
        await withTaskGroup(of: (String, PreflightObservations.ClockOffset?).self) { group in
            for (_, node) in config.nodes where !local.contains(node.name) {
                guard let endpoint = config.apiEndpoint(of: node.name) else { continue }
                group.addTask {
                    let sent = Date().timeIntervalSince1970 * 1000
                    let request = HTTPRequest(url: "\(endpoint.url)/status", connectTimeout: .seconds(1), timeout: .seconds(2))
                    guard let response = try? await HTTPClient().send(request),
                        let served = (try? JSONDecoder().decode(NodeSnapshot.self, from: Data(response.body)))?.servedAtMillis
                    else { return (node.name, nil) }
                    let received = Date().timeIntervalSince1970 * 1000
                    let midpoint = (sent + received) / 2
                    return (node.name, .init(offset: .milliseconds(Int64(Double(served) - midpoint)), uncertainty: .milliseconds(Int64((received - sent) / 2) + 1)))
                }
            }
            var offsets: [String: PreflightObservations.ClockOffset] = [:]
            for await (name, offset) in group { if let offset { offsets[name] = offset } }
            return offsets
        }
    }

    static func localHost(_ node: NodeConfig) -> PreflightObservations.LocalHost {
        let pgCtl = (try? PostgresBinaries.directory()).map { FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl") } ?? false
        var stats = statvfs()
        guard let dataDir = node.dataDir, statvfs(dataDir, &stats) == 0 else { return .init(pgCtlFound: pgCtl, freeBytes: nil, totalBytes: nil) }
        return .init(pgCtlFound: pgCtl, freeBytes: UInt64(stats.f_bavail) * UInt64(stats.f_frsize), totalBytes: UInt64(stats.f_blocks) * UInt64(stats.f_frsize))
    }

    /// Fetches `segment` from the repository into a scratch file (checksum checked, as
    /// restore_command would); the store keeps its I/O off the cooperative pool.
    static func fetch(_ segment: String, from repository: BackupRepository) async -> PreflightObservations.ArchiveFetch {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-preflight-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        do {
            let fetched = try await WALArchive(repository: repository).fetch(name: segment, to: scratch)
            return fetched ? .fetched(segment: segment) : .failed(segment: segment, reason: "not in the archive")
        } catch {
            return .failed(segment: segment, reason: "\(error)")
        }
    }

    /// Runs blocking file-system calls on a Dispatch thread: a hung disk or NFS mount under
    /// a data directory must stall this check, never the cooperative threads the agent's
    /// loop runs on (two of them on a 2-core host).
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    /// A timed linearizable read, then the configuration hash each member publishes and,
    /// when regions name their etcd members, etcd's member names.
    static func etcdRead(_ config: ClusterConfig, sourceAddress: String?) async -> (PreflightObservations.EtcdRead, [String: String], [String]?) {
        do {
            let coordinator = try EtcdCoordinator.forConfig(config, sourceAddress: sourceAddress)
            let clock = ContinuousClock()
            let started = clock.now
            _ = try await coordinator.leader()
            let took = clock.now - started
            let members = (try? await coordinator.snapshot().members) ?? []
            let hashes = members.compactMap { member in member.configHash.map { (member.name, $0) } }
            // etcd's own members, only when a region names one to check.
            let names = config.regions.contains { $0.etcdMember != nil } ? try? await coordinator.etcdLeadership().members.map(\.name) : nil
            return (.answered(took), Dictionary(hashes, uniquingKeysWith: { first, _ in first }), names)
        } catch {
            return (.failed("\(error)"), [:], nil)
        }
    }

    static func dnsReads(_ config: ClusterConfig) async -> [String: String?] {
        guard !config.dns.records.isEmpty else { return [:] }
        let switcher: DNSSwitcher
        do { switcher = try DNSSwitcher(config: config) } catch {
            return Dictionary(uniqueKeysWithValues: config.dns.records.map { ($0.name, .some("\(error)")) })
        }
        var failures: [String: String?] = [:]
        for record in config.dns.records {
            do {
                guard let provider = switcher.providers[record.provider] else { throw PreflightRunner.NoProvider(name: record.provider) }
                _ = try await provider.read(name: record.name, type: record.type, deadline: ContinuousClock().now + .seconds(10))
                failures[record.name] = .some(nil)
            } catch {
                failures[record.name] = .some("\(error)")
            }
        }
        return failures
    }

    /// Each provider's own credential check, where it has one (a provider that cannot be
    /// asked is judged by the reads of its records).
    static func dnsCredentialProblems(_ config: ClusterConfig) async -> [String: String] {
        guard !config.dns.records.isEmpty, let switcher = try? DNSSwitcher(config: config) else { return [:] }
        var problems: [String: String] = [:]
        for (name, provider) in switcher.providers.sorted(by: { $0.key < $1.key }) {
            do {
                if let problem = try await provider.credentialProblem(deadline: ContinuousClock().now + .seconds(10)) { problems[name] = problem }
            } catch {
                problems[name] = "\(error)"
            }
        }
        return problems
    }

    /// Why a replication connection from here to the node is refused (nil: accepted):
    /// psql's IDENTIFY_SYSTEM over `replication=true`, which pg_hba.conf's replication lines decide.
    static func replicationRefusal(conninfo: String) async -> String? {
        do {
            let output = try await CommandRunner.run(["psql", "\(conninfo) replication=true connect_timeout=3", "-X", "-qtA", "-c", "IDENTIFY_SYSTEM"], check: false)
            guard output.status != 0 else { return nil }
            let message = output.stderr.split(separator: "\n").first.map(String.init) ?? "psql exited \(output.status)"
            return message.replacing("psql: error: ", with: "")
        } catch {
            return "could not run psql: \(error)"
        }
    }
}
