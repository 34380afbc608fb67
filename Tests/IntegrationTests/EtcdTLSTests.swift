import DRCoordination
import DRCore
import DRHTTP
import DRLab
import Foundation
import Testing

extension RealServers {
    @Suite("etcd over TLS with client certificates")
    struct EtcdTLSTests {
        @Test func theCoordinatorWorksOverTLSAndIsRefusedWithoutItsCertificates() async throws {
            let dir = "/tmp/drctl-etcd-tls-\(UUID().uuidString.prefix(8).lowercased())"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let certs = try await TestCertificates.make(in: dir)
            var etcd = try EtcdServer.scratch(in: dir)
            etcd.tls = .init(caFile: certs.caFile, certFile: certs.serverCert, keyFile: certs.serverKey)
            #expect(etcd.endpoint.hasPrefix("https://"))
            try await etcd.start()
            do {
                // Through the configuration, as the agents and the CLI build it.
                let config = try ConfigLoader.load(
                    yaml: """
                        cluster: tls
                        objectives: {rto: 30s, rpo: 5s}
                        coordination:
                          endpoints: [\(etcd.endpoint)]
                          tls: {ca_file: \(certs.caFile), cert_file: \(certs.clientCert), key_file: \(certs.clientKey)}
                        regions:
                          - name: r1
                            role: primary
                            nodes: [{name: n1, conninfo: "host=127.0.0.1 port=5432", data_dir: /var/lib/postgresql/15/n1}]
                        """, file: "tls.yaml")
                let coordinator = try EtcdCoordinator.forConfig(config)
                let lease = try await coordinator.grantLease(ttl: .seconds(10))
                guard case .acquired(let record) = try await coordinator.acquireLeadership(node: "n1", lease: lease) else {
                    Issue.record("the leader key must be free on a new etcd"); return
                }
                #expect(try await coordinator.leader() == record)

                // No client certificate: etcd refuses the handshake.
                let anonymous = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint], tls: HTTPTLSFiles(caFile: certs.caFile)), prefix: "/drctl/tls/")
                await #expect(throws: (any Error).self) { try await anonymous.leader() }
                // Without our CA the server's certificate is not trusted.
                let untrusting = EtcdCoordinator(
                    gateway: EtcdGateway(endpoints: [etcd.endpoint], tls: HTTPTLSFiles(certFile: certs.clientCert, keyFile: certs.clientKey)),
                    prefix: "/drctl/tls/")
                do {
                    _ = try await untrusting.leader()
                    Issue.record("a server certificate from an unknown CA must be refused")
                } catch {
                    #expect("\(error)".contains(etcd.endpoint), "the error names the endpoint: \(error)")
                }
            } catch {
                try? await etcd.stop()
                throw error
            }
            try await etcd.stop()
        }
    }
}
