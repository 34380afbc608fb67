import DRChaos
import DRCore
import Testing

extension RealServers {
    /// `make chaos`, short and with fixed seeds, in both replication modes: random faults
    /// against a real lab under a write load, judged only from what the clients saw.
    @Suite("fault campaign in the lab")
    struct ChaosIntegrationTests {
        @Test(arguments: [(seed: UInt64(7), synchronous: false), (seed: UInt64(20), synchronous: true)])
        func aShortCampaignKeepsEveryProperty(seed: UInt64, synchronous: Bool) async throws {
            let campaign = ChaosCampaign(.init(seed: seed, duration: 45, synchronous: synchronous, binary: try DrctlBinary.path()))
            let report = try await campaign.run { print("chaos \(seed): \($0)") }
            for property in report.properties {
                #expect(property.passed, "seed \(seed) \(synchronous ? "sync" : "async"): \(property.name): \(property.detail)")
            }
            #expect(report.acknowledged > 100, "the write load ran")
            #expect(!report.plan.steps.isEmpty, "faults were injected")
        }
    }
}
