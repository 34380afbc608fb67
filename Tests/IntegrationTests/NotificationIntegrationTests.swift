import DRCoordination
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// Notifications from a real failover to local stand-ins for a signed webhook, Slack and
    /// PagerDuty, each checking every request as its provider documents it (the webhook's
    /// HMAC recomputed by Python's hmac): each event reaches each channel exactly once, a
    /// provider's 500 is retried, and no secret appears in the agents' logs.
    @Suite("notifications in the lab")
    struct NotificationIntegrationTests {
        @Test func aFailoverReachesEveryChannelOnceAndNoSecretIsLogged() async throws {
            let secrets = NSTemporaryDirectory() + "drctl-notify-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: secrets) }
            let hmacKey = "whsec-" + UUID().uuidString, routingKey = UUID().uuidString.replacing("-", with: "")
            // The first request to each path fails with 500: delivery must retry.
            let receiver = try await NotificationReceiver.start(directory: secrets, secret: hmacKey, routingKey: routingKey, failFirst: 1)
            defer { Task { try? await receiver.stop() } }
            let slackURL = "\(receiver.url)/slack/T0000/B0000/\(UUID().uuidString.prefix(12))"
            for (file, value) in [("hook", hmacKey), ("slack", slackURL), ("pager", routingKey)] {
                try value.write(toFile: "\(secrets)/\(file)", atomically: true, encoding: .utf8)
            }
            let channels = """
                notifications:
                  - {name: ops-hook, type: webhook, url: "\(receiver.url)/webhook", secret_file: \(secrets)/hook}
                  - {name: chat, type: slack, url_file: \(secrets)/slack, events: [failover, fence]}
                  - {name: pager, type: pagerduty, url: "\(receiver.url)/pagerduty", routing_key_file: \(secrets)/pager, events: [failover]}

                """
            try await withLab(failover: LabFailoverSettings(extraConfig: channels)) { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                #expect(try await eventually(within: .seconds(20)) { try await etcd.leader()?.node == "pg1" })
                let pg1 = try lab.node("pg1")
                kill(try #require(pg1.pid), SIGKILL)
                #expect(try await eventually(within: .seconds(30)) { try await etcd.leader()?.node == "pg2" })

                func delivered(_ kind: String, event: String) -> [NotificationReceiver.Received] {
                    receiver.received().filter { received in
                        let sent = received.kind == kind && (200..<300).contains(received.status)
                        switch kind {
                        case "webhook": return sent && received.body["kind"] as? String == event
                        case "slack": return sent && (received.body["text"] as? String)?.contains("] \(event):") == true
                        default: return sent && (received.body["payload"] as? [String: Any])?["class"] as? String == event
                        }
                    }
                }
                let arrived = try await eventually(within: .seconds(40)) {
                    !delivered("webhook", event: "failover").isEmpty && !delivered("slack", event: "failover").isEmpty
                        && !delivered("pagerduty", event: "failover").isEmpty && !delivered("webhook", event: "fence").isEmpty
                }
                let all = receiver.received()
                #expect(arrived, "\(all.map { "\($0.kind) \($0.status) \($0.verdict)" })")
                // A few seconds more: nothing else may arrive for the same events.
                try await Task.sleep(for: .seconds(3))
                #expect(receiver.received().allSatisfy { $0.verdict == "ok" }, "every request as documented: \(receiver.received().map(\.verdict))")
                for kind in ["webhook", "slack", "pagerduty"] {
                    #expect(delivered(kind, event: "failover").count == 1, "\(kind): one failover")
                    #expect(receiver.received().contains { $0.kind == kind && $0.status == 500 }, "\(kind): the 500 was retried")
                }
                #expect(delivered("webhook", event: "fence").count == 1, "one fence, from pg1's agent")
                #expect(delivered("pagerduty", event: "fence").isEmpty, "the pager channel takes failovers only")
                let page = try #require(delivered("pagerduty", event: "failover").first?.body)
                let term = try await etcd.leader()?.term ?? 0
                #expect(page["dedup_key"] as? String == "failover-term-\(term)", "\(page)")
                let hook = try #require(delivered("webhook", event: "failover").first?.body)
                #expect((hook["summary"] as? String)?.contains("pg2 promoted") == true && (hook["details"] as? [String: Any])?["promoted"] as? String == "pg2")

                let logs = ["region1", "region2"].map { (try? String(contentsOfFile: "\(lab.dir)/agents/\($0)/agent.log", encoding: .utf8)) ?? "" }.joined()
                #expect(logs.contains("notification sent"))
                for secret in [hmacKey, routingKey, slackURL] { #expect(!logs.contains(secret), "a secret in the agents' logs") }
            }
        }
    }
}
