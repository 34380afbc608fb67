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
    public var accessKeyID: SecretSource
    public var secretAccessKey: SecretSource
    /// For temporary credentials (STS): sent as `x-amz-security-token`.
    public var sessionToken: SecretSource?
    /// How many times one request is tried in all when S3 answers "not now" (5xx, 429,
    /// SlowDown, RequestTimeout) or the connection fails or drops.
    public var maxAttempts = 5

    public init(
        bucket: String, prefix: String, endpoint: String?, addressing: Addressing, partSize: Int, accessKeyID: SecretSource,
        secretAccessKey: SecretSource, sessionToken: SecretSource? = nil
    ) {
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.addressing = addressing
        self.partSize = partSize
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
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
        for name in ["access_key_id", "secret_access_key", "session_token"] { SecretFields.refuseInline(object, name: name) }
        let key = SecretFields.read(object, name: "access_key_id", required: true)
        let secret = SecretFields.read(object, name: "secret_access_key", required: true)
        let token = SecretFields.read(object, name: "session_token", required: false)
        guard let addressing, let partMiB, let attempts, let key, let secret else { return nil }
        var config = S3RepositoryConfig(
            bucket: location.bucket, prefix: location.prefix, endpoint: endpoint, addressing: addressing, partSize: partMiB << 20,
            accessKeyID: key, secretAccessKey: secret, sessionToken: token)
        config.maxAttempts = attempts
        return .some(config)
    }
}
