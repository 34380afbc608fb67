import Testing

@testable import DRCore

@Suite struct ReplicaConfigTests {
    @Test func fromThePrimaryUnlessTold() throws {
        #expect(try ConfigLoader.load(yaml: ConfigFixtures.valid, file: "x.yaml").replica.createFrom == [.primary])
        let config = try ConfigLoader.load(yaml: ConfigFixtures.valid + "replica:\n  create_from: [repository, primary]\n", file: "x.yaml")
        #expect(config.replica.createFrom == [.repository, .primary])
    }

    @Test func ignoredSlotsAreListedAloneOrWithTheSources() throws {
        #expect(try ConfigLoader.load(yaml: ConfigFixtures.valid, file: "x.yaml").replica.ignoreSlots == [])
        let alone = try ConfigLoader.load(yaml: ConfigFixtures.valid + "replica:\n  ignore_slots: [receivewal]\n", file: "x.yaml")
        #expect(alone.replica == ReplicaConfig(createFrom: [.primary], ignoreSlots: ["receivewal"]))
        let both = try ConfigLoader.load(yaml: ConfigFixtures.valid + "replica:\n  create_from: [primary]\n  ignore_slots: [a, b]\n", file: "x.yaml")
        #expect(both.replica.ignoreSlots == ["a", "b"])
    }

    @Test(arguments: [
        (ConfigFixtures.valid + "replica:\n  create_from: []\n", "is empty"),
        (ConfigFixtures.valid + "replica:\n  create_from: [primary, primary]\n", "names a source twice"),
        (ConfigFixtures.valid + "replica:\n  create_from: [s3]\n", "expected one of primary, repository"),
        (ConfigFixtures.valid + "replica:\n  from: [primary]\n", "create_from"),
        (ConfigFixtures.valid + "replica:\n  ignore_slots: receivewal\n", "ignore_slots"),
        (
            ConfigFixtures.valid.components(separatedBy: "backup:")[0] + "replica:\n  create_from: [repository]\n",
            "names repository, but there is no backup: section"
        ),
    ])
    func refused(_ yaml: String, _ message: String) throws {
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml, file: "x.yaml") }
        #expect(error.diagnostics.contains { $0.description.contains(message) }, "\(error.diagnostics)")
    }
}
