import DRChaos
import DRCore
import Testing

extension RealServers {
    /// `make chaos`, short and with fixed seeds, in both replication modes and with failsafe:
    /// random faults against a real lab under a write load, judged only from what the
    /// clients saw. Seed 26 kills the lab's only etcd member (with failsafe no write may stop).
    @Suite("fault campaign in the lab")
    struct ChaosIntegrationTests {
        @Test(arguments: [
            (seed: UInt64(7), synchronous: false, failsafe: false), (seed: UInt64(20), synchronous: true, failsafe: false),
            (seed: UInt64(26), synchronous: false, failsafe: true),
        ])
        func aShortCampaignKeepsEveryProperty(seed: UInt64, synchronous: Bool, failsafe: Bool) async throws {
            var settings = ChaosCampaign.Settings(seed: seed, duration: 45, synchronous: synchronous, binary: try DrctlBinary.path())
            settings.failsafe = failsafe
            let report = try await Self.run(settings)
            if failsafe {
                let outage = report.properties.first { $0.name.hasPrefix("an etcd outage alone") }
                #expect(outage?.detail.hasPrefix("not judged") == false, "seed \(seed): the etcd outage was judged: \(outage?.detail ?? "missing")")
            }
        }

        /// The issue's partition case as a campaign: with failsafe, etcd killed (all of it),
        /// then the primary's region isolated during the outage. Every property must hold:
        /// pg1 fenced before pg2 is promoted (once etcd is back), losses within the RPO.
        @Test func anIsolatedPrimaryIsFencedDuringAnEtcdOutage() async throws {
            var settings = ChaosCampaign.Settings(seed: 0, duration: 30, synchronous: false, binary: try DrctlBinary.path())
            settings.failsafe = true
            settings.plan = ChaosPlan(
                seed: 0,
                steps: [
                    .init(at: 8, fault: .killEtcd, node: "pg2", healAfter: 14), .init(at: 12, fault: .isolateRegion, node: "pg1", healAfter: 6),
                ])
            let report = try await Self.run(settings)
            #expect(report.timelines.count == 2, "pg2 was promoted once etcd was back: timelines \(report.timelines)")
        }

        static func run(_ settings: ChaosCampaign.Settings) async throws -> ChaosReport {
            let report = try await ChaosCampaign(settings).run { print("chaos \(settings.seed): \($0)") }
            let name = "seed \(settings.seed) \(settings.synchronous ? "sync" : "async")\(settings.failsafe ? " failsafe" : "")"
            for property in report.properties {
                #expect(property.passed, "\(name): \(property.name): \(property.detail)")
            }
            #expect(report.acknowledged > 100, "the write load ran")
            #expect(!report.plan.steps.isEmpty, "faults were injected")
            return report
        }
    }
}
