import DRBackup
import DRCoordination
import DRCore
import DRHTTP
import DRLab
import Foundation
import Testing

extension RealServers {
    @Suite("scheduled jobs in the lab")
    struct SchedulerIntegrationTests {
        @Test func exactlyOneAgentRunsEachOccurrenceAndTheMetricsShowIt() async throws {
            let schedules = """
                schedules:
                  - {name: yearly-dump, cron: "0 0 1 1 *", backup: logical}
                """
            try await withLab(failover: LabFailoverSettings(extraConfig: schedules)) { lab in
                let config = try lab.config()
                let etcd = try EtcdCoordinator.forConfig(config)
                let repository = try BackupRepository(config: config)
                // Never run before: the latest occurrence runs at once, by one agent. A yearly cron,
                // so that no second occurrence falls due while the test counts backups (a
                // minutely one did, on a loaded machine, straddling a minute boundary).
                let ran = try await eventually(within: .seconds(30)) { try await etcd.jobRecord("yearly-dump")?.succeeded == true }
                #expect(ran)
                let record = try #require(try await etcd.jobRecord("yearly-dump"))
                #expect(["region1", "region2"].contains(record.node))
                let backups = try await repository.list().filter { $0.kind == .logical }
                #expect(backups.count == 1, "two agents, one lock: one backup per occurrence, found \(backups.map(\.id))")
                #expect(record.detail.contains(try #require(backups.first).id))

                // The agents expose the newest backup in their metrics.
                let api = try #require(Lab.status(dir: lab.dir).agents.first?.api)
                let exported = try await eventually(within: .seconds(30)) {
                    let text = try await HTTPClient().send(HTTPRequest(url: api + "/metrics")).text
                    return text.contains("drctl_backup_last_size_bytes{cluster=\"lab\",kind=\"logical\"}")
                }
                #expect(exported)
            }
        }
    }
}
