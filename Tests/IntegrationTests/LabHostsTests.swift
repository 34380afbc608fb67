import DRLab
import DRSystem
import Foundation
import Testing

/// Regions as separate hosts, the network part: namespaces joined by a bridge, a latency
/// relay in one region, and nothing left behind — no namespace, no address in the root
/// namespace.
@Suite(.tags(.root), .needsRoot, .timeLimit(.minutes(2))) struct LabHostsTests {
    @Test func regionsAreNamespacesAndOneRegionsConnectionsAreDelayed() async throws {
        let hosts = LabHosts.plan(dir: "/tmp/drctl-hosts-\(UUID().uuidString)", regions: ["region1", "region2", "region3"])
        try await hosts.create()
        do {
            let (r1, r2, r3) = (hosts.hosts[0], hosts.hosts[1], hosts.hosts[2])
            let echo = try await onThread(in: r2.namespace) { try EchoServer(address: r2.address) }
            defer { echo.stop() }
            let relay = DelayRelay(shape: .init(oneWay: .milliseconds(20)), mark: LabHosts.relayMark)
            try await onThread(in: r1.namespace) { try relay.start() }
            defer { relay.stop() }
            try await hosts.delayOutgoing(from: r1, relayPort: relay.port)

            let delayed = try await onThread(in: r1.namespace) { try EchoServer.roundTrips(to: r2.address, port: echo.port, count: 10, mark: nil) }
            let plain = try await onThread(in: r3.namespace) { try EchoServer.roundTrips(to: r2.address, port: echo.port, count: 10, mark: nil) }
            let median = { (values: [Duration]) in values.sorted()[values.count / 2] }
            #expect(delayed.allSatisfy { $0 >= .milliseconds(40) }, "region1 → region2 crosses the relay: \(delayed)")
            #expect(median(delayed) < .milliseconds(100), "\(delayed)")
            #expect(median(plain) < .milliseconds(10), "region3 has no delay of its own: \(plain)")
        } catch {
            await hosts.remove()
            throw error
        }
        await hosts.remove()
        #expect(hosts.leftovers.isEmpty, "every namespace removed: \(hosts.leftovers)")
        let root = try await CommandRunner.run(["ip", "-o", "addr"])
        #expect(!root.stdout.contains(LabHosts.subnet + "."), "no lab address in the root namespace")
    }
}

extension RealServers {
    /// The relay as the lab runs it: `drctl-lab relay` inside a region's namespace, the round
    /// trip it adds measured between regions, and gone with the namespaces.
    @Suite("latency between region namespaces", .tags(.root), .needsRoot)
    struct LabLatencyTests {
        @Test func theRelayProcessAddsTheRoundTripAndLeavesNothing() async throws {
            let dir = "/tmp/drctl-hosts-\(UUID().uuidString.prefix(8))"
            let hosts = LabHosts.plan(dir: dir, regions: ["region1", "region2"])
            try await hosts.create()
            var relay: Int32 = 0
            do {
                let (r1, r2) = (hosts.hosts[0], hosts.hosts[1])
                let echo = try await onThread(in: r2.namespace) { try EchoServer(address: r2.address) }
                defer { echo.stop() }
                relay = try await hosts.startRelay(in: r1, binary: try DrctlBinary.path(), latency: .milliseconds(40), stateDir: dir)
                let delayed = try await onThread(in: r1.namespace) { try EchoServer.roundTrips(to: r2.address, port: echo.port, count: 10, mark: nil) }
                let back = try await onThread(in: r2.namespace) { try EchoServer.roundTrips(to: r2.address, port: echo.port, count: 10, mark: nil) }
                #expect(delayed.allSatisfy { $0 >= .milliseconds(40) }, "40 ms round trip region1 -> region2: \(delayed)")
                #expect(back.sorted()[5] < .milliseconds(10), "inside region2, no delay: \(back)")
            } catch {
                await hosts.remove()
                throw error
            }
            await hosts.remove()
            try? FileManager.default.removeItem(atPath: dir)
            #expect(hosts.leftovers.isEmpty)
            #expect(!ProcessControl.isAlive(relay), "the relay stopped with its namespace")
        }
    }
}

/// Runs `body` on a thread of its own inside network namespace `name`, and returns what it
/// returned (the cooperative pool's threads never change namespace).
func onThread<T: Sendable>(in name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(
                with: Result {
                    try NetworkNamespace.enter(name); return try body()
                })
        }.start()
    }
}
