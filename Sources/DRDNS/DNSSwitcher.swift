import DRCoordination
import DRCore
import DRSystem

/// Points managed records at their targets: reads what each provider holds, changes only
/// what differs (idempotent), one call per provider, checks just before writing that the
/// caller may still write (the leader term), and verifies that the change is served.
public struct DNSSwitcher: Sendable {
    public let providers: [String: any DNSProvider]
    /// Per provider: its authoritative servers, or none (then verified through its API).
    public let verifiers: [String: DNSVerifier]

    public init(providers: [String: any DNSProvider], verifiers: [String: DNSVerifier]) {
        self.providers = providers
        self.verifiers = verifiers
    }

    /// Providers and verifiers for `config`, with credentials read from their sources.
    public init(config: ClusterConfig) throws {
        var providers: [String: any DNSProvider] = [:]
        var verifiers: [String: DNSVerifier] = [:]
        for provider in config.dns.providers {
            providers[provider.name] = try Self.provider(provider)
            let servers = provider.nameservers.compactMap(DNSVerifier.Server.parse)
            if !servers.isEmpty { verifiers[provider.name] = DNSVerifier(servers: servers) }
        }
        self.init(providers: providers, verifiers: verifiers)
    }

    static func provider(_ config: DNSProviderConfig) throws -> any DNSProvider {
        func secret(_ name: String) throws -> String {
            guard let source = config.credentials[name] else {
                throw DNSProviderError(.configuration, provider: config.name, operation: "reading credentials", message: "no \(name) configured")
            }
            return try SecretReader.read(source, what: "DNS provider \(config.name) \(name)")
        }
        switch config.kind {
        case .powerdns:
            return PowerDNSProvider(name: config.name, url: config.url, serverID: config.serverID ?? "localhost", zone: config.zone ?? "", apiKey: try secret("api_key"))
        case .cloudflare:
            return CloudflareProvider(name: config.name, url: config.url, zone: config.zone ?? "", token: try secret("api_token"))
        case .route53:
            return Route53Provider(
                name: config.name, url: config.url, hostedZoneID: config.hostedZoneID ?? "",
                accessKeyID: try secret("access_key_id"), secretAccessKey: try secret("secret_access_key"))
        }
    }

    /// What happened to one record.
    public struct Outcome: Sendable {
        public var record: String
        public var desired: DNSRecordSet
        /// What the provider held before; nil when the record did not exist.
        public var before: DNSRecordSet?
        /// When the provider accepted the change; nil when nothing needed changing.
        public var switchedAt: ContinuousClock.Instant?
        /// When every authoritative server (or the API) served the desired answer.
        public var verifiedAt: ContinuousClock.Instant?
        public var error: String?
    }

    /// Applies `sets` by `deadline`. `mayWrite` is asked right before each provider write
    /// attempt, retries included (the leader term check); when it says no, nothing more is
    /// written and the reason is the error.
    public func apply(
        _ sets: [(provider: String, set: DNSRecordSet)], comment: String, deadline: ContinuousClock.Instant,
        mayWrite: @escaping DNSWriteCheck
    ) async -> [Outcome] {
        let clock = ContinuousClock()
        var outcomes: [Outcome] = []
        for providerName in Set(sets.map(\.provider)).sorted() {
            let group = sets.filter { $0.provider == providerName }.map(\.set)
            guard let provider = providers[providerName] else {
                outcomes += group.map { Outcome(record: $0.name, desired: $0, error: "no DNS provider named \(providerName)") }
                continue
            }
            var results: [Outcome] = []
            var changes: [DNSRecordSet] = []
            for set in group {
                do {
                    let current = try await provider.read(name: set.name, type: set.type, deadline: deadline)
                    results.append(Outcome(record: set.name, desired: set, before: current))
                    if current?.matches(set) != true { changes.append(set) }
                } catch {
                    results.append(Outcome(record: set.name, desired: set, error: "\(error)"))
                }
            }
            if !changes.isEmpty {
                do {
                    try await provider.upsert(changes, comment: comment, deadline: deadline, check: mayWrite)
                    let now = clock.now
                    for i in results.indices where changes.contains(results[i].desired) { results[i].switchedAt = now }
                } catch let error as DNSProviderError where error.kind == .refused {
                    for i in results.indices where changes.contains(results[i].desired) { results[i].error = error.message }
                } catch {
                    for i in results.indices where changes.contains(results[i].desired) { results[i].error = "\(error)" }
                }
            }
            for i in results.indices where results[i].error == nil {
                results[i] = await verify(results[i], provider: provider, deadline: deadline)
            }
            outcomes += results
        }
        return outcomes
    }

    private func verify(_ outcome: Outcome, provider: any DNSProvider, deadline: ContinuousClock.Instant) async -> Outcome {
        var outcome = outcome
        if let verifier = verifiers[provider.name] {
            let failing = await verifier.waitUntilServed(outcome.desired, deadline: deadline)
            if failing.isEmpty {
                outcome.verifiedAt = ContinuousClock().now
            } else {
                outcome.error = "changed, but not served by the authoritative servers by the deadline: \(failing.joined(separator: "; "))"
            }
            return outcome
        }
        do {
            let served = try await provider.read(name: outcome.desired.name, type: outcome.desired.type, deadline: deadline)
            if served?.matches(outcome.desired) == true {
                outcome.verifiedAt = ContinuousClock().now
            } else {
                outcome.error = "changed, but \(provider.name) reads back \(served?.description ?? "no record")"
            }
        } catch {
            outcome.error = "changed, but reading it back failed: \(error)"
        }
        return outcome
    }
}
