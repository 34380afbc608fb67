import DRCore
import Testing

@Suite struct EtcdLeaderPlacementTests {
    /// Regions r1 (primary), r2 (hot standby) and r3, whose role and etcd members are given.
    static func regions(r3: String = "cold", members: [String?] = ["e1", "e2", "e3"]) throws -> [RegionConfig] {
        func member(_ index: Int) -> String { members[index].map { "\n    etcd_member: \($0)" } ?? "" }
        func nodes(_ name: String) -> String {
            "\n    nodes:\n      - name: pg-\(name)\n        conninfo: \"host=\(name).example port=5432 user=drctl\"\n        data_dir: /d"
        }
        let yaml = """
            cluster: c
            objectives: {rto: 30s, rpo: 5s}
            coordination: {endpoints: [http://10.0.1.5:2379], lease_ttl: 5s}
            regions:
              - name: r1
                role: primary\(member(0))\(nodes("r1"))
              - name: r2
                role: hot-standby\(member(1))\(nodes("r2"))
              - name: r3
                role: \(r3)\(member(2))\(r3 == "cold" ? "\n    nodes: []" : nodes("r3"))

            """
        return try ConfigLoader.load(yaml: yaml, file: "placement.yaml").regions
    }

    static let members = [EtcdLeaderPlacement.Member(id: "11", name: "e1"), .init(id: "22", name: "e2"), .init(id: "33", name: "e3")]

    @Test(arguments: [
        ("etcd's leader beside the primary: to the witness region", "11", "r1", "e3"),
        ("after a failover to r2, etcd's leader in r2: to the witness", "22", "r2", "e3"),
        ("the witness leads: stays", "33", "r1", nil),
        ("etcd's leader elsewhere already: stays", "22", "r1", nil),
        ("an unknown leader: stays", "99", "r1", nil),
    ])
    func movesEtcdsLeaderOutOfThePrimarysRegion(_ label: String, leader: String, primary: String, expected: String?) throws {
        let regions = try Self.regions()
        #expect(
            EtcdLeaderPlacement.transferees(leaderID: leader, members: Self.members, primaryRegion: primary, regions: regions).first?.name == expected,
            "\(label)")
    }

    @Test func theWitnessFirstThenTheOtherRegion() throws {
        let names = EtcdLeaderPlacement.transferees(leaderID: "11", members: Self.members, primaryRegion: "r1", regions: try Self.regions()).map(\.name)
        #expect(names == ["e3", "e2"], "when the witness's member is down, the other region's is asked next")
    }

    @Test func withoutAWitnessTheOtherRegionsMemberByName() throws {
        let regions = try Self.regions(r3: "hot-standby")
        #expect(EtcdLeaderPlacement.transferees(leaderID: "11", members: Self.members, primaryRegion: "r1", regions: regions).map(\.name) == ["e2", "e3"])
    }

    @Test func regionsThatDoNotNameTheirMembersLeaveEtcdAlone() throws {
        let regions = try Self.regions(members: [nil, nil, nil])
        #expect(EtcdLeaderPlacement.transferees(leaderID: "11", members: Self.members, primaryRegion: "r1", regions: regions).isEmpty)
    }
}
