import DRCoordination
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("etcd leader elections against a real three-member etcd")
    struct EtcdElectionTests {
        /// A member whose leader just died holds a read until its election ends, then answers
        /// 503 "leader changed". The gateway moves on to the next member — by then it knows
        /// the new leader — so the read succeeds; before, it failed, and a drctl leader lost
        /// a loop of its lease to an election the members finished in half a second.
        @Test func aReadMeetingAnElectionIsServedByAnotherMember() async throws {
            let dir = "/tmp/drctl-etcd3-\(UUID().uuidString.prefix(8).lowercased())"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var taken: Set<Int> = []
            var members: [EtcdServer] = []
            for index in 1...3 {
                let client = try PortAllocator.freePort(avoiding: taken)
                let peer = try PortAllocator.freePort(avoiding: taken.union([client]))
                taken.formUnion([client, peer])
                members.append(
                    EtcdServer(
                        host: "127.0.0.1", clientPort: client, peerPort: peer, dataDir: "\(dir)/e\(index)",
                        logFile: "\(dir)/e\(index).log", pidFile: "\(dir)/e\(index).pid"))
            }
            members = EtcdServer.cluster(members)
            defer {
                for member in members { if let pid = member.pid { kill(pid, SIGKILL) } }
                try? FileManager.default.removeItem(atPath: dir)
            }
            try await EtcdServer.start(members)
            let raftLeader = try #require(await EtcdServer.leader(of: members))
            let followers = members.filter { $0.endpoint != raftLeader.endpoint }
            let coordinator = EtcdCoordinator(
                gateway: EtcdGateway(endpoints: followers.map(\.endpoint), timeout: .seconds(2)), prefix: "/drctl/election/")
            let lease = try await coordinator.grantLease(ttl: .seconds(10))
            _ = try await coordinator.acquireLeadership(node: "a", lease: lease)

            kill(try #require(raftLeader.pid), SIGKILL)
            let started = ContinuousClock.now
            let leader = try await coordinator.leader()
            let renewed = try await coordinator.keepAlive(lease: lease)
            let took = ContinuousClock.now - started
            #expect(leader?.node == "a")
            #expect(renewed == .seconds(10))
            print("read and renewal across the etcd election took \(took)")
            let log = try followers.map { try String(contentsOfFile: $0.logFile, encoding: .utf8) }.joined()
            #expect(log.contains("elected leader") || log.contains("became leader"), "a new leader was elected")
        }
    }
}
