import DRChaos
import DRCore
import Testing

extension RealServers {
    /// `make chaos`, short and with fixed seeds, in both replication modes and with failsafe:
    /// random faults against a real lab under a write load, judged only from what the
    /// clients saw. Seed 26 kills the lab's only etcd member (with failsafe: no write may
    /// stop); seed 7 isolates the primary's region.
    @Suite("fault campaign in the lab")
    struct ChaosIntegrationTests {
        @Test(arguments: [
            (seed: UInt64(7), synchronous: false, failsafe: false), (seed: UInt64(20), synchronous: true, failsafe: false),
            (seed: UInt64(26), synchronous: false, failsafe: true), (seed: UInt64(7), synchronous: false, failsafe: true),
        ])
        func aShortCampaignKeepsEveryProperty(seed: UInt64, synchronous: Bool, failsafe: Bool) async throws {
            var settings = ChaosCampaign.Settings(seed: seed, duration: 45, synchronous: synchronous, binary: try DrctlBinary.path())
            settings.failsafe = failsafe
            let report = try await ChaosCampaign(settings).run { print("chaos \(seed): \($0)") }
            let name = "seed \(seed) \(synchronous ? "sync" : "async")\(failsafe ? " failsafe" : "")"
            for property in report.properties {
                #expect(property.passed, "\(name): \(property.name): \(property.detail)")
            }
            #expect(report.acknowledged > 100, "the write load ran")
            #expect(!report.plan.steps.isEmpty, "faults were injected")
            if failsafe, seed == 26 {
                let outage = report.properties.first { $0.name.hasPrefix("an etcd outage alone") }
                #expect(outage?.detail.hasPrefix("not judged") == false, "\(name): the etcd outage was judged: \(outage?.detail ?? "missing")")
            }
        }
    }
}
