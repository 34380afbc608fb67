/// A backup repository in S3-compatible object storage: `s3://BUCKET/PREFIX` plus how to
/// reach and sign for it. The layout under PREFIX is the local repository's, unchanged.
public struct S3RepositoryConfig: Sendable, Equatable {
    /// How the bucket appears in URLs: `BUCKET.HOST/KEY` (AWS's default) or `HOST/BUCKET/KEY`
    /// (what most self-hosted S3 servers want).
    public enum Addressing: String, Sendable, Equatable, CaseIterable {
        case virtual
        case path
    }

    public var bucket: String
    /// Key prefix without leading or trailing slash; empty for the bucket's root.
    public var prefix: String
    /// `scheme://host[:port]` without the bucket; nil: AWS's regional endpoint.
    public var endpoint: String?
    public var addressing: Addressing
    /// Upload part size: the memory a streamed backup holds per part in flight.
    public var partSize: Int
    /// Where the keys come from: named in the config, or AWS's default chain.
    public var credentials: Credentials

    public enum Credentials: Sendable, Equatable {
        /// `access_key_id_env|_file` and `secret_access_key_env|_file` (and a session token's
        /// for temporary credentials, sent as `x-amz-security-token`).
        case keys(accessKeyID: SecretSource, secretAccessKey: SecretSource, sessionToken: SecretSource?)
        /// None named: AWS's default chain, in its order — the environment
        /// (`AWS_ACCESS_KEY_ID`…), the shared credentials file's `profile` (else `AWS_PROFILE`,
        /// else `default`), web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`,
        /// exchanged with STS), then the EC2 instance role through IMDSv2.
        case chain(profile: String?)
    }
    /// How many times one request is tried in all when S3 answers "not now" (5xx, 429,
    /// SlowDown, RequestTimeout) or the connection fails or drops.
    public var maxAttempts = 5
    /// Server-side encryption of every object: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS,
    /// with `kmsKeyID` or the account's default key); nil: the bucket's default.
    public var serverSideEncryption: ServerSideEncryption? = nil
    public var kmsKeyID: String? = nil
    /// The storage class of backup data files (base backups, dumps); WAL and manifests,
    /// read often and small, stay in the bucket's default class.
    public var storageClass: String? = nil

    public enum ServerSideEncryption: String, Sendable, Equatable, CaseIterable {
        case aes256 = "AES256"
        case kms = "aws:kms"
    }

    /// The headers every object's PUT (and CreateMultipartUpload) carries for encryption.
    public var encryptionHeaders: [(String, String)] {
        guard let serverSideEncryption else { return [] }
        var headers = [("x-amz-server-side-encryption", serverSideEncryption.rawValue)]
        if serverSideEncryption == .kms, let kmsKeyID { headers.append(("x-amz-server-side-encryption-aws-kms-key-id", kmsKeyID)) }
        return headers
    }

    public init(
        bucket: String, prefix: String, endpoint: String?, addressing: Addressing, partSize: Int, accessKeyID: SecretSource,
        secretAccessKey: SecretSource, sessionToken: SecretSource? = nil
    ) {
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.addressing = addressing
        self.partSize = partSize
        self.credentials = .keys(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken)
    }

    /// S3's smallest part (every part but the last must be at least this).
    public static let minimumPartSize = 5 << 20

    /// Splits `s3://bucket/some/prefix/` into the bucket and `some/prefix`.
    public static func split(_ url: String) -> (bucket: String, prefix: String)? {
        guard url.hasPrefix("s3://") else { return nil }
        let rest = url.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        guard isValidBucket(bucket) else { return nil }
        return (bucket, prefix)
    }

    /// S3's bucket naming rules: 3–63 of lower-case letters, digits, '.' and '-', starting
    /// and ending with a letter or digit.
    public static func isValidBucket(_ name: String) -> Bool {
        guard (3...63).contains(name.count), let first = name.first, let last = name.last else { return false }
        let allowed = name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "." || $0 == "-" }
        return allowed && (first.isLowercase || first.isNumber) && (last.isLowercase || last.isNumber)
    }
}

/// Parses `backup.s3`, for a repository given as an `s3://` URL.
enum S3ConfigLoader {
    static func parse(_ field: YAMLField, repository: String, at repositoryField: YAMLField) -> S3RepositoryConfig?? {
        guard let location = S3RepositoryConfig.split(repository) else {
            repositoryField.report(
                "expected s3://BUCKET/PREFIX with a bucket name of 3-63 lower-case letters, digits, '.' and '-', found \"\(repository)\"")
            return nil
        }
        guard let object = field.object(keys: ConfigKeys.s3) else { return nil }
        let endpoint = object["endpoint"].string(required: false, expected: "the S3 endpoint URL, e.g. https://s3.eu-west-1.amazonaws.com")
        if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) || endpoint.split(separator: "/").count != 2 {
            object["endpoint"].report("expected scheme://host[:port] without a path, e.g. https://s3.eu-west-1.amazonaws.com, found \"\(endpoint)\"")
        }
        // Path-style is what self-hosted servers speak; AWS wants virtual-host style.
        let addressing =
            object.has("addressing") ? object["addressing"].choice(S3RepositoryConfig.Addressing.self) : (endpoint == nil ? .virtual : .path)
        if addressing == .virtual, location.bucket.contains(".") {
            object["addressing"].report("bucket \(location.bucket) has dots: its virtual-host name would not match a TLS certificate; use addressing: path")
        }
        let partMiB = object["part_size_mib"].int(in: 5...5120, default: 16)
        let attempts = object["max_attempts"].int(in: 1...20, default: 5)
        let encryption = object.has("server_side_encryption") ? object["server_side_encryption"].choice(S3RepositoryConfig.ServerSideEncryption.self) : nil
        let kmsKey = object.has("kms_key_id") ? object["kms_key_id"].string(expected: "a KMS key id, ARN or alias") : nil
        if kmsKey != nil, encryption != .kms { object["kms_key_id"].report("applies only with server_side_encryption: aws:kms") }
        let classes = ["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "REDUCED_REDUNDANCY"]
        let storageClass = object.has("storage_class") ? object["storage_class"].string(expected: "an S3 storage class") : nil
        if let storageClass, !classes.contains(storageClass) {
            // Archive classes (GLACIER, DEEP_ARCHIVE) need a restore request before a read: no use for a restore at 3 a.m.
            object["storage_class"].report("expected one of \(classes.joined(separator: ", ")), found \"\(storageClass)\"" + Suggestion.hint(for: storageClass, among: classes))
        }
        for name in ["access_key_id", "secret_access_key", "session_token"] { SecretFields.refuseInline(object, name: name) }
        // Keys named in the config, or none at all: AWS's default chain.
        let named = ["access_key_id", "secret_access_key", "session_token"].contains { name in object.has("\(name)_env") || object.has("\(name)_file") }
        let key = SecretFields.read(object, name: "access_key_id", required: named)
        let secret = SecretFields.read(object, name: "secret_access_key", required: named)
        let token = SecretFields.read(object, name: "session_token", required: false)
        let profile = object.has("profile") ? object["profile"].string(expected: "a profile of the shared credentials file") : nil
        if named, profile != nil { object["profile"].report("applies only without access_key_id_env/_file: the keys named here are used") }
        guard let addressing, let partMiB, let attempts, !named || (key != nil && secret != nil) else { return nil }
        var config = S3RepositoryConfig(
            bucket: location.bucket, prefix: location.prefix, endpoint: endpoint, addressing: addressing, partSize: partMiB << 20,
            accessKeyID: key ?? .environment("AWS_ACCESS_KEY_ID"), secretAccessKey: secret ?? .environment("AWS_SECRET_ACCESS_KEY"), sessionToken: token)
        if !named { config.credentials = .chain(profile: profile) }
        config.maxAttempts = attempts
        config.serverSideEncryption = encryption
        config.kmsKeyID = kmsKey
        config.storageClass = storageClass
        return .some(config)
    }
}
