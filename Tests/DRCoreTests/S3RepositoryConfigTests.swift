import Testing

@testable import DRCore

@Suite struct S3RepositoryConfigTests {
    /// The fixture's repository moved to a bucket; eu-central (the repository's region) mapped
    /// to its provider region unless `mapped` is false.
    static func yaml(s3: String, repository: String = "s3://shop-backups/prod/db", mapped: Bool = true) -> String {
        var text = ConfigFixtures.valid.replacing("repository: /srv/backups/shop", with: "repository: \(repository)\n  s3:\n" + s3)
        if mapped { text = text.replacing("    role: hot-standby\n", with: "    role: hot-standby\n    provider_region: eu-central-1\n") }
        return text
    }

    static let credentials = "    access_key_id_env: S3_KEY\n    secret_access_key_file: /etc/drctl/s3\n"

    @Test func aBucketWithItsDefaults() throws {
        let config = try ConfigLoader.load(yaml: Self.yaml(s3: Self.credentials), file: "x.yaml")
        let s3 = try #require(config.backup?.objectStorage)
        #expect(s3.bucket == "shop-backups" && s3.prefix == "prod/db")
        #expect(s3.endpoint == nil && s3.addressing == .virtual, "AWS's endpoint, virtual-host style")
        #expect(s3.partSize == 16 << 20)
        #expect(s3.credentials == .keys(accessKeyID: .environment("S3_KEY"), secretAccessKey: .file("/etc/drctl/s3"), sessionToken: nil))
        #expect(config.regions.first { $0.name == "eu-central" }?.providerRegion == "eu-central-1")
    }

    @Test func aSelfHostedEndpointDefaultsToPathStyle() throws {
        let config = try ConfigLoader.load(
            yaml: Self.yaml(s3: Self.credentials + "    endpoint: http://10.0.3.9:9000\n    part_size_mib: 64\n    session_token_env: S3_TOKEN\n"), file: "x.yaml")
        let s3 = try #require(config.backup?.objectStorage)
        #expect(s3.endpoint == "http://10.0.3.9:9000" && s3.addressing == .path && s3.partSize == 64 << 20)
        #expect(s3.credentials == .keys(accessKeyID: .environment("S3_KEY"), secretAccessKey: .file("/etc/drctl/s3"), sessionToken: .environment("S3_TOKEN")))
    }

    @Test(arguments: [
        (yaml(s3: credentials, repository: "s3://Bad_Bucket/x"), "bucket name of 3-63"),
        (yaml(s3: "    access_key_id: AKIA123\n    secret_access_key_env: S\n"), "secrets are never read from the config"),
        (yaml(s3: "    secret_access_key_env: S\n"), "needs access_key_id_env"),
        (yaml(s3: credentials + "    profile: backups\n"), "applies only without access_key_id_env"),
        (yaml(s3: credentials + "    endpoint: s3.example.com\n"), "scheme://host[:port]"),
        (yaml(s3: credentials + "    part_size_mib: 1\n"), "5"),
        (yaml(s3: credentials, mapped: false), "needs regions[1].provider_region"),
        (yaml(s3: credentials, repository: "s3://shop.backups/x"), "use addressing: path"),
        (yaml(s3: credentials, repository: "/srv/backups/shop"), "applies only to a repository given as s3://"),
        (yaml(s3: credentials + "    server_side_encryption: AES256\n    kms_key_id: alias/backups\n"), "applies only with server_side_encryption: aws:kms"),
        (yaml(s3: credentials + "    storage_class: DEEP_ARCHIVE\n"), "expected one of STANDARD"),
        (yaml(s3: credentials + "    server_side_encryption: kms\n"), "expected one of AES256, aws:kms"),
    ])
    func refused(_ yaml: String, _ message: String) throws {
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml, file: "x.yaml") }
        #expect(error.diagnostics.contains { $0.description.contains(message) }, "\(error.diagnostics)")
    }

    /// SSE-KMS with its key on every object; the storage class for data files only.
    @Test func encryptionAtRestAndStorageClass() throws {
        let config = try ConfigLoader.load(
            yaml: Self.yaml(s3: Self.credentials + "    server_side_encryption: aws:kms\n    kms_key_id: alias/backups\n    storage_class: STANDARD_IA\n"),
            file: "x.yaml")
        let s3 = try #require(config.backup?.objectStorage)
        #expect(s3.encryptionHeaders.map(\.0) == ["x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"])
        #expect(s3.encryptionHeaders.map(\.1) == ["aws:kms", "alias/backups"])
        #expect(s3.storageClass == "STANDARD_IA")
        let plain = try ConfigLoader.load(yaml: Self.yaml(s3: Self.credentials), file: "x.yaml").backup?.objectStorage
        #expect(plain?.encryptionHeaders.isEmpty == true && plain?.storageClass == nil, "the bucket's defaults")
    }

    /// No keys named: AWS's default chain, with the shared file's profile if given.
    @Test func withoutKeysTheDefaultChain() throws {
        let s3 = try #require(try ConfigLoader.load(yaml: Self.yaml(s3: "    profile: backups\n"), file: "x.yaml").backup?.objectStorage)
        #expect(s3.credentials == .chain(profile: "backups"))
        let bare = try #require(try ConfigLoader.load(yaml: Self.yaml(s3: "    part_size_mib: 16\n"), file: "x.yaml").backup?.objectStorage)
        #expect(bare.credentials == .chain(profile: nil))
    }

    @Test func bucketNames() {
        #expect(S3RepositoryConfig.split("s3://abc") ?? ("", "x") == ("abc", ""))
        #expect(S3RepositoryConfig.split("s3://abc/a//b/") ?? ("", "") == ("abc", "a/b"))
        #expect(S3RepositoryConfig.split("s3://ab/x") == nil)
        #expect(S3RepositoryConfig.split("s3://-abc/x") == nil)
        #expect(S3RepositoryConfig.split("/srv/x") == nil)
    }
}
