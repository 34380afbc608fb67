import DRCore
import Testing

/// What a reload may change live, and what it must refuse whole.
@Suite struct ConfigReloadTests {
    static let base = ConfigFixtures.valid

    static func loaded(_ yaml: String) throws -> ClusterConfig { try ConfigLoader.load(yaml: yaml, file: "reload.yaml") }

    static let cases: [(String, @Sendable (String) -> String, [String], Bool)] = [
        ("the same file", { $0 }, [], false),
        ("a new RTO", { $0.replacingOccurrences(of: "rto: 30s", with: "rto: 40s") }, ["objectives"], false),
        ("a longer health interval", { $0.replacingOccurrences(of: "interval: 1s", with: "interval: 2s") }, ["health"], false),
        ("a log level", { $0 + "log:\n  level: debug\n" }, ["log"], false),
        ("a log format", { $0 + "log:\n  format: json\n" }, [], true),
        ("another cluster name", { $0.replacingOccurrences(of: "cluster: shop", with: "cluster: billing") }, [], true),
        ("another etcd", { $0.replacingOccurrences(of: "http://10.0.3.5:2379", with: "http://10.0.3.9:2379") }, [], true),
        ("another data directory", { $0.replacing("/var/lib/postgresql/15/main", with: "/srv/pg", maxReplacements: 1) }, [], true),
    ]

    @Test(arguments: 0..<cases.count)
    func review(_ index: Int) throws {
        let (name, edit, changed, restart) = Self.cases[index]
        let running = try Self.loaded(Self.base)
        let review = ConfigReload.review(running: running, loaded: try Self.loaded(edit(Self.base)))
        #expect(review.changed == changed, "\(name)")
        #expect(review.needsRestart.isEmpty == !restart, "\(name): \(review.needsRestart)")
        if restart { #expect(review.changed.isEmpty, "\(name): nothing is applied when a restart is needed") }
    }

    @Test func tagsAndPrioritiesChangeLiveButANodesAddressDoesNot() throws {
        let running = try Self.loaded(Self.base)
        var tagged = running
        tagged.regions[1].nodes[1].tags.insert(.nofailover)
        tagged.regions[0].priority += 1
        #expect(ConfigReload.review(running: running, loaded: tagged) == ConfigReload(changed: ["regions (tags, priorities)"], needsRestart: []))
        var moved = running
        moved.regions[0].nodes[0].address = "10.9.9.9"
        #expect(!ConfigReload.review(running: running, loaded: moved).needsRestart.isEmpty)
    }
}
