import DRCore
import Testing

/// What `drctl init` writes: it loads as written, decides only what it found, and says the
/// rest in comments.
@Suite struct InitialConfigTests {
    static func discovered(sync: String = "", archive: String = "drctl wal-push %p %f --config /etc/drctl/drctl.yaml", hints: Bool = true) -> DiscoveredCluster {
        DiscoveredCluster(
            primary: .init(
                name: "db1", conninfo: "host=10.1.0.5 user=drctl dbname=postgres", inRecovery: false, dataDirectory: "/var/lib/postgresql/15/main",
                upstreamHost: nil, slotName: nil),
            standbys: [
                .init(
                    name: "db2", conninfo: "host=10.2.0.5 user=drctl dbname=postgres", inRecovery: true, dataDirectory: "/var/lib/postgresql/15/main",
                    upstreamHost: "10.1.0.5", slotName: "db2")
            ],
            replicas: [
                .init(applicationName: "db2", clientAddress: "10.2.0.5", state: "streaming", syncState: sync.isEmpty ? "async" : "sync"),
                .init(applicationName: "reporting", clientAddress: "10.9.0.7", state: "streaming", syncState: "async"),
            ],
            slots: ["db2", "old_backup_slot"], synchronousStandbyNames: sync, archiveCommand: archive, walLogHints: hints, dataChecksums: false)
    }

    @Test func anAsynchronousClusterLoadsWithItsTopology() throws {
        let text = InitialConfig.render(cluster: "orders", discovered: Self.discovered(), etcd: ["http://10.1.0.10:2379", "http://10.2.0.10:2379"])
        let config = try ConfigLoader.load(yaml: text, file: "drctl.yaml")
        #expect(config.cluster == "orders")
        #expect(config.regions.map(\.role) == [.primary, .hotStandby])
        #expect(config.nodes.map(\.node.name) == ["db1", "db2"])
        #expect(config.nodes.map(\.node.dataDir) == ["/var/lib/postgresql/15/main", "/var/lib/postgresql/15/main"])
        #expect(config.coordination.endpoints.count == 2)
        #expect(!config.failover.synchronous && config.objectives.rpo == .seconds(5))
        #expect(text.contains("streams from 10.1.0.5, slot db2"))
        #expect(text.contains("not managed: reporting from 10.9.0.7"), "a replica init was not told about is named, not adopted")
        #expect(text.contains("other replication slots") && text.contains("old_backup_slot"))
    }

    @Test func aSynchronousClusterIsAdoptedAsSynchronous() throws {
        let text = InitialConfig.render(cluster: "orders", discovered: Self.discovered(sync: "FIRST 1 (db2)"), etcd: ["http://10.1.0.10:2379"])
        let config = try ConfigLoader.load(yaml: text, file: "drctl.yaml")
        #expect(config.failover.synchronous && config.objectives.rpo == .zero)
    }

    @Test func whatDrctlCannotUseYetIsSaid() throws {
        let text = InitialConfig.render(cluster: "orders", discovered: Self.discovered(archive: "cp %p /mnt/wal/%f", hints: false), etcd: ["http://10.1.0.10:2379"])
        _ = try ConfigLoader.load(yaml: text, file: "drctl.yaml")
        #expect(text.contains("archive_command is 'cp %p /mnt/wal/%f'"))
        #expect(text.contains("pg_rewind cannot run yet"))
    }

    /// A region whose node shares its host with one etcd member names it; otherwise the
    /// candidates are a comment, and the configuration loads either way.
    @Test func eachRegionNamesTheEtcdMemberOnItsHost() throws {
        let members: [InitialConfig.EtcdMember] = [.init(name: "etcd-a", hosts: ["10.1.0.5"]), .init(name: "etcd-b", hosts: ["10.9.0.1"])]
        let text = InitialConfig.render(cluster: "orders", discovered: Self.discovered(), etcd: ["http://10.1.0.5:2379"], etcdMembers: .read(members))
        let config = try ConfigLoader.load(yaml: text, file: "drctl.yaml")
        #expect(config.regions.map(\.etcdMember) == ["etcd-a", nil])
        #expect(text.contains("# etcd_member: the etcd member in this region, one of etcd-a, etcd-b (none runs on 10.2.0.5)"))
        let unread = InitialConfig.render(cluster: "orders", discovered: Self.discovered(), etcd: ["http://10.1.0.5:2379"], etcdMembers: .unread("connection refused"))
        #expect(try ConfigLoader.load(yaml: unread, file: "drctl.yaml").regions.allSatisfy { $0.etcdMember == nil })
        #expect(unread.contains("etcd's member list could not be read: connection refused"))
        // One host for every node (a lab): the member is nobody's region.
        var oneHost = Self.discovered()
        oneHost.standbys[0].conninfo = "host=10.1.0.5 port=5433 user=drctl dbname=postgres"
        let lab = InitialConfig.render(cluster: "orders", discovered: oneHost, etcd: ["http://10.1.0.5:2379"], etcdMembers: .read(members))
        #expect(try ConfigLoader.load(yaml: lab, file: "drctl.yaml").regions.allSatisfy { $0.etcdMember == nil })
        #expect(lab.contains("(10.1.0.5 also runs db2)"))
    }

    @Test(arguments: [("pg-eu", "pg-eu"), ("10.1.0.5", "10-1-0-5"), ("DB_Main.example.com", "db-main-example-com"), ("--", "node")])
    func nodeNamesAreValidNames(_ input: String, _ expected: String) {
        #expect(InitialConfig.nodeName(input) == expected)
    }
}
