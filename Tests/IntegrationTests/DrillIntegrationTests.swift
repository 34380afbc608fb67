import DRCoordination
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("the shipped drills in the lab")
    struct DrillIntegrationTests {
        static let drills = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("drills").path

        func drill(_ name: String, _ lab: LabState) async throws -> CommandRunner.Output {
            // drctl-lab: it runs every drill, those that inject faults into the lab too.
            try await CommandRunner.run([try DrctlBinary.lab(), "drill", "run", "\(Self.drills)/\(name).yaml", "--config", lab.configFile], check: false)
        }

        @Test func restoreLatestPITRAndPrimaryFailurePass() async throws {
            try await withLab { lab in
                for name in ["restore-latest", "pitr", "primary-failure"] {
                    let run = try await drill(name, lab)
                    #expect(run.status == 0 && run.stdout.contains("PASSED"), "\(name):\n\(run.stdout)\(run.stderr)")
                }
                let list = try await CommandRunner.run([try DrctlBinary.path(), "drill", "list", "--json", "--config", lab.configFile])
                let entries = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
                #expect(entries.map { $0["drill"] as? String } == ["restore-latest", "pitr", "primary-failure"])
                for entry in entries {
                    #expect(entry["passed"] as? Bool == true)
                    let html = try #require(entry["report_html"] as? String)
                    #expect(try String(contentsOfFile: html, encoding: .utf8).contains("<svg"))
                    #expect(FileManager.default.fileExists(atPath: try #require(entry["report_json"] as? String)))
                }
                // Every run on one page, written as a folder with each report beside it.
                let folder = "\(lab.dir)/drill-index"
                let index = try await CommandRunner.run(
                    [try DrctlBinary.path(), "drill", "report", "--index", "--out", folder, "--config", lab.configFile], check: false)
                #expect(index.status == 0 && index.stdout.contains("3 run(s)"), "\(index.stdout)\(index.stderr)")
                let page = try String(contentsOfFile: "\(folder)/index.html", encoding: .utf8)
                #expect(page.components(separatedBy: "<tr data-run=").count - 1 == 3 && page.contains("RTO over time"))
                for entry in entries {
                    let id = try #require(entry["id"] as? String)
                    #expect(page.contains("<a href=\"\(id).html\">"), "linked")
                    #expect(try String(contentsOfFile: "\(folder)/\(id).html", encoding: .utf8).contains("<svg"), "copied beside the index")
                }
            }
        }

        /// The switchover drill against the lab as against any cluster: to region2 and back,
        /// nothing lost, DNS verified each way, the probe table gone afterwards; and refused
        /// (nothing changed) when the target region has no healthy standby.
        @Test func switchoverDrillGoesThereAndBack() async throws {
            try await withLab { lab in
                let run = try await drill("switchover", lab)
                #expect(run.status == 0 && run.stdout.contains("PASSED"), "\(run.stdout)\(run.stderr)")
                #expect(run.stdout.contains("pg1 -> pg2") && run.stdout.contains("pg2 -> pg1") && run.stdout.contains("DNS verified"), "\(run.stdout)")
                #expect(run.stdout.contains("0 of them lost"), "\(run.stdout)")
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                #expect(try await etcd.leader()?.node == "pg1", "switched back")
                let pg1 = try lab.node("pg1")
                let probe = try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    try await session.query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'drctl_drill_probe'").single().int("n")
                }
                #expect(probe == 0, "the probe table is dropped")
                // region3 has no node: refused before anything changes.
                let elsewhere = "\(lab.dir)/switchover-region3.yaml"
                try String(contentsOfFile: "\(Self.drills)/switchover.yaml", encoding: .utf8).replacing("to: region2", with: "to: region3")
                    .write(toFile: elsewhere, atomically: true, encoding: .utf8)
                let refused = try await CommandRunner.run([try DrctlBinary.path(), "drill", "run", elsewhere, "--config", lab.configFile], check: false)
                #expect(refused.status != 0 && refused.stdout.contains("region region3 has no nodes"), "\(refused.stdout)\(refused.stderr)")
                #expect(try await etcd.leader()?.node == "pg1")
            }
        }

        /// The failover drill for a real cluster, against the lab taken as one: refused without
        /// `--confirm` naming the cluster (nothing changed), then a real crash by the primary's
        /// own agent, a failover within the objectives, DNS verified.
        @Test func clusterFailoverDrillAsksForConfirmationThenFailsOver() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let unconfirmed = try await drill("cluster-failover", lab)
                #expect(unconfirmed.status != 0 && unconfirmed.stdout.contains("--confirm lab"), "\(unconfirmed.stdout)\(unconfirmed.stderr)")
                let wrong = try await CommandRunner.run(
                    [try DrctlBinary.path(), "drill", "run", "\(Self.drills)/cluster-failover.yaml", "--confirm", "prod", "--config", lab.configFile], check: false)
                #expect(wrong.status != 0, "another cluster's name is no confirmation")
                #expect(try await etcd.leader()?.node == "pg1", "nothing changed")
                // Two refused runs within a second or two: each its own report.
                let listed = try await CommandRunner.run([try DrctlBinary.path(), "drill", "list", "--json", "--config", lab.configFile])
                let ids = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]).compactMap { $0["id"] as? String }
                #expect(ids.count == 2 && Set(ids).count == 2, "\(ids)")
                let run = try await CommandRunner.run(
                    [try DrctlBinary.path(), "drill", "run", "\(Self.drills)/cluster-failover.yaml", "--confirm", "lab", "--config", lab.configFile], check: false)
                #expect(run.status == 0 && run.stdout.contains("PASSED"), "\(run.stdout)\(run.stderr)")
                #expect(run.stdout.contains("pg1 -> pg2") && run.stdout.contains("DNS verified") && run.stdout.contains("writes refused"), "\(run.stdout)")
                #expect(try await etcd.leader()?.node == "pg2")
                let log = (try? String(contentsOfFile: "\(lab.dir)/agents/region1/agent.log", encoding: .utf8)) ?? ""
                #expect(log.contains("failover drill: stopping this primary with an immediate shutdown"), "the primary's own agent crashed it")
                // Right after a failover the agents' cooldown (1m in the lab) would hold the next
                // one for an operator: a drill now would measure that hold, so it is refused.
                let again = try await CommandRunner.run(
                    [try DrctlBinary.path(), "drill", "run", "\(Self.drills)/cluster-failover.yaml", "--confirm", "lab", "--config", lab.configFile], check: false)
                #expect(again.status != 0 && again.stdout.contains("failover.cooldown"), "\(again.stdout)\(again.stderr)")
                #expect(try await etcd.leader()?.node == "pg2", "nothing changed")
            }
        }

        @Test func regionOutagePasses() async throws {
            try await withLab { lab in
                let run = try await drill("region-outage", lab)
                #expect(run.status == 0 && run.stdout.contains("PASSED"), "\(run.stdout)\(run.stderr)")
                #expect(run.stdout.contains("DNS verified"))
            }
        }

        /// Both regions with databases lost; region3 activated from backups: the RTO and
        /// RPO are measured, every step is on the timeline, the lab ends with pg3 primary.
        @Test func regionActivationPasses() async throws {
            try await withLab { lab in
                let run = try await drill("region-activation", lab)
                #expect(run.status == 0 && run.stdout.contains("PASSED"), "\(run.stdout)\(run.stderr)")
                for step in ["fault: region1 and region2 lost", "writable", "leader key taken", "DNS switched", "first write acknowledged by pg3"] {
                    #expect(run.stdout.contains(step), "\(step): \(run.stdout)")
                }
                #expect(run.stdout.contains("RTO ") && run.stdout.contains("RPO "))
                let rto = run.stdout.split(separator: "\n").first { $0.contains("RTO ") }.map(String.init) ?? ""
                print("region-activation drill (lab): \(rto.trimmingCharacters(in: .whitespaces))")
            }
        }
    }
}
