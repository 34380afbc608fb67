import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// The loopback lab's partitions on regions as hosts (`drctl-lab isolate` on a lab of
    /// `lab up --hosts`), each checked by what it must and must not cut, at 40 ms so every
    /// connection crosses the latency relays. Region2 (the standby's) is cut: nothing fails over.
    @Suite("partitions between region hosts", .tags(.root), .needsRoot)
    struct RegionCutsTests {
        @Test func eachCutTakesExactlyItsConnections() async throws {
            let dir = "/tmp/drctl-regions-\(UUID().uuidString.prefix(8).lowercased())"
            let lab = try await RegionHostsLab.up(dir: dir, binary: try DrctlBinary.path(), latency: .milliseconds(40), agents: true)
            do {
                let probe = Probe(lab: lab)
                var kept: String?
                let everything = Probe.Reach(etcd: true, etcdFromRegion3: true, replication: true, agentAPI: true, otherPeer: true)
                #expect(try await probe.all() == everything)
                /// Cuts region2, checks what it reaches, heals and waits until it reaches everything again.
                func cut(_ kind: LabCut, from peers: [String]? = nil, expect reach: Probe.Reach) async throws {
                    try await lab.isolate("region2", kind, from: peers)
                    let actual = try await probe.all()
                    #expect(actual == reach, "\(kind) from \(peers ?? ["every region"]): \(actual)")
                    try await lab.heal("region2", kind)
                    var healed = Probe.Reach(etcd: false, etcdFromRegion3: false, replication: false, agentAPI: false, otherPeer: false)
                    let converged = try await eventually(within: .seconds(30)) {
                        healed = try await probe.all(); return healed == everything
                    }
                    if !converged { kept = await lab.keepDiagnostics(in: TestArtifacts.directory("region-cuts-heal-\(kind.rawValue)")) }
                    #expect(converged, "healed \(kind): \(healed); the lab's state is kept in \(kept ?? "-")")
                }
                try await cut(.etcd, expect: Probe.Reach(etcd: false, etcdFromRegion3: true, replication: true, agentAPI: true, otherPeer: false))
                try await cut(.replication, expect: Probe.Reach(etcd: true, etcdFromRegion3: true, replication: false, agentAPI: true, otherPeer: true))
                try await cut(.agents, expect: Probe.Reach(etcd: true, etcdFromRegion3: true, replication: true, agentAPI: false, otherPeer: true))
                // From region1 only: region3 (its etcd member, its operators) still reached. Region2's
                // member keeps serving unless region1's member leads etcd: then it has lost its
                // leader, and region3 (which still hears it) refuses it a new one (pre-vote).
                let etcdLeader = try #require(await EtcdServer.leader(of: lab.members))
                let region1Leads = etcdLeader.namespace == lab.namespace("region1")
                try await cut(
                    .full, from: ["region1"], expect: Probe.Reach(etcd: !region1Leads, etcdFromRegion3: true, replication: false, agentAPI: false, otherPeer: true))
                try await cut(.full, expect: Probe.Reach(etcd: false, etcdFromRegion3: true, replication: false, agentAPI: false, otherPeer: false))

                // One way: region2's requests reach etcd, their answers never come back. Only a
                // connection made before the cut carries requests (a new one's handshake needs an
                // answer), as the agents' kept-alive connections do: bash holds one to region2's
                // member, asks once, cuts with `drctl-lab isolate`, then puts a key.
                let member = lab.endpoints(from: "region2")[0].split(separator: "/").last ?? ""
                let (host, port) = (member.split(separator: ":")[0], member.split(separator: ":")[1])
                func request(_ path: String, _ body: String) -> String {
                    "printf 'POST \(path) HTTP/1.1\\r\\nHost: etcd\\r\\nContent-Type: application/json\\r\\nContent-Length: \(body.utf8.count)\\r\\n\\r\\n%s' '\(body)' >&3"
                }
                let key = Data("/drctl/probe/answers".utf8).base64EncodedString(), value = Data("arrived".utf8).base64EncodedString()
                let script = """
                    exec 3<>/dev/tcp/\(host)/\(port)
                    \(request("/v3/kv/range", "{\"key\":\"\(key)\"}"))
                    read -r -t 3 status <&3 && echo "before: $status"
                    while read -r -t 0.5 _ <&3; do :; done
                    \(try DrctlBinary.lab()) isolate region2 --cut etcd-answers --dir \(dir) >/dev/null
                    \(request("/v3/kv/put", "{\"key\":\"\(key)\",\"value\":\"\(value)\"}"))
                    if read -r -t 3 status <&3; then echo "after: $status"; else echo "after: no answer"; fi
                    """
                let held = try await lab.run(in: "region2", ["bash", "-c", script], check: false)
                #expect(held.stdout.contains("before: HTTP/1.1 200") && held.stdout.contains("after: no answer"), "\(held.stdout)\(held.stderr)")
                let read = try await lab.run(in: "region3", probe.etcdctl(from: "region3") + ["get", "/drctl/probe/answers", "--print-value-only"])
                #expect(read.stdout.contains("arrived"), "the request was applied: \(read.stdout)")
                #expect(try await probe.all().etcd == false, "nor can region2 open a new connection to etcd")
                try await lab.heal("region2")
                let healed = try await eventually(within: .seconds(20)) { try await probe.all() == everything }

                // None of it was a reason to fail over.
                let leader = try await lab.leaderKey()
                let writable = try await lab.acceptsWrites(lab.databases[0], from: "region1")
                if !healed || leader != "pg1" || writable != true {
                    kept = await lab.keepDiagnostics(in: TestArtifacts.directory("region-cuts-end"))
                }
                #expect(healed, "the lab's state is kept in \(kept ?? "-")")
                #expect(leader == "pg1")
                #expect(writable == true)
            } catch {
                let kept = await lab.keepDiagnostics(in: TestArtifacts.directory("region-cuts"))
                Issue.record("the lab's state is kept in \(kept)")
                try? await RegionHostsLab.down(dir: dir)
                throw error
            }
            try await RegionHostsLab.down(dir: dir)
            #expect(lab.hosts.leftovers.isEmpty)
        }

        /// What region2 reaches, each asked over the network from a region's host.
        struct Probe {
            let lab: RegionHostsLab

            struct Reach: Equatable {
                /// region2's own etcd member serves linearizable requests (it has a quorum).
                var etcd: Bool
                var etcdFromRegion3: Bool
                /// psql from region2 to pg1, the standby's replication path.
                var replication: Bool
                /// region1's host gets an answer from region2's agent API.
                var agentAPI: Bool
                /// region2 reaches region3's etcd member.
                var otherPeer: Bool
            }

            func etcdctl(from region: String) -> [String] {
                ["etcdctl", "--endpoints", lab.endpoints(from: region)[0], "--dial-timeout", "1s", "--command-timeout", "2s"]
            }

            func all() async throws -> Reach {
                async let etcd = ok("region2", etcdctl(from: "region2") + ["endpoint", "health"])
                async let region3 = ok("region3", etcdctl(from: "region3") + ["endpoint", "health"])
                let pg1 = lab.databases[0]
                async let replication = ok(
                    "region2", ["psql", "host=\(pg1.host) port=\(pg1.port) user=postgres dbname=postgres connect_timeout=2", "-X", "-qtA", "-c", "SELECT 1"])
                let api = lab.hosts.hosts[1].address
                async let agentAPI = ok(
                    "region1",
                    ["timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/\(api)/\(RegionHostsLab.agentPort); printf 'GET /status HTTP/1.0\\r\\n\\r\\n' >&3; head -c 12 <&3 | grep -q 'HTTP/1.1 200'"])
                async let peer = ok("region2", ["etcdctl", "--endpoints", lab.endpoints(from: "region3")[0], "--dial-timeout", "1s", "--command-timeout", "2s", "endpoint", "health"])
                return Reach(etcd: try await etcd, etcdFromRegion3: try await region3, replication: try await replication, agentAPI: try await agentAPI, otherPeer: try await peer)
            }

            private func ok(_ region: String, _ command: [String]) async throws -> Bool {
                try await lab.run(in: region, command, check: false).status == 0
            }
        }
    }
}
