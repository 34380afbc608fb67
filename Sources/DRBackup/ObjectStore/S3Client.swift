import DRCore
import DRCrypto
import DRHTTP
import Foundation

/// S3's REST API, signed with SigV4, for one bucket: the handful of calls a backup
/// repository needs. Transient failures (5xx, 429, SlowDown, RequestTimeout, a refused,
/// timed-out or dropped connection) are retried with capped exponential backoff and
/// jitter, `maxAttempts` tries in all; every other answer is the caller's to read.
public struct S3Client: Sendable {
    public let bucket: String
    let scheme: String
    /// host[:port] of the endpoint, without the bucket.
    let endpointHost: String
    let addressing: S3RepositoryConfig.Addressing
    /// The keys to sign with, current at each request.
    let credentials: S3CredentialProvider
    let region: String
    let maxAttempts: Int
    /// Sent with every object's PUT and CreateMultipartUpload.
    let encryptionHeaders: [(String, String)]
    /// For backup data files (see `S3RepositoryConfig.storageClass`).
    let storageClass: String?
    /// AWS's SDKs start at 100 ms and cap at 20 s; 5 s keeps a restore moving.
    static let backoff = RetrySchedule(initial: .milliseconds(100), maximum: .seconds(5))
    let http = HTTPClient()

    /// - Parameter region: the signing region, the provider's name (e.g. `eu-west-1`).
    public init(config: S3RepositoryConfig, region: String) throws {
        let endpoint = config.endpoint ?? "https://s3.\(region).amazonaws.com"
        let parts = endpoint.components(separatedBy: "://")
        scheme = parts[0]
        endpointHost = parts.count > 1 ? parts[1] : endpoint
        bucket = config.bucket
        addressing = config.addressing
        self.region = region
        credentials = try S3CredentialProvider(config.credentials, region: region)
        maxAttempts = config.maxAttempts
        encryptionHeaders = config.encryptionHeaders
        storageClass = config.storageClass
    }

    /// One signed exchange. `key` nil addresses the bucket itself; `query` values are
    /// unencoded (a value-less parameter such as `uploads` is given with "").
    func send(
        _ method: String, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(30), operation: String
    ) async throws -> HTTPResponse {
        var attempt = 0
        while true {
            let wait = { (retryAfter: Duration?) in
                Self.backoff.delay(afterAttempt: attempt, retryAfter: retryAfter, random: Double.random(in: 0..<1), remaining: .seconds(60)) ?? .seconds(5)
            }
            do {
                let keys = try await credentials.current()
                let response = try await http.send(signed(method, key: key, query: query, headers: extra, body: body, timeout: timeout, keys: keys))
                guard Self.isTransient(response), attempt + 1 < maxAttempts else { return response }
                try await Task.sleep(for: wait(response.headers["retry-after"].flatMap { Int($0) }.map { .seconds(min($0, 30)) }))
            } catch let error as HTTPError {
                // Timeouts, refused and dropped connections pass; TLS and local failures do not.
                guard error.kind != .transport, attempt + 1 < maxAttempts else {
                    throw S3Error.unreachable(operation: operation, target: target(key), detail: "\(error) (tried \(attempt + 1) time(s))")
                }
                try await Task.sleep(for: wait(nil))
            }
            attempt += 1
        }
    }

    /// S3's answers that say "not now": server errors, throttling (429, 503 SlowDown) and a
    /// request it gave up reading (400 RequestTimeout). Retrying any of drctl's requests is
    /// safe: every write replaces an object or a part whole.
    static func isTransient(_ response: HTTPResponse) -> Bool {
        if [429, 500, 502, 503, 504].contains(response.status) { return true }
        guard response.status == 400 else { return false }
        let code = S3XML.first("Code", in: response.text) ?? ""
        return code == "RequestTimeout" || code == "SlowDown"
    }

    /// `s3://bucket/key`, for messages.
    func target(_ key: String?) -> String { "s3://\(bucket)/\(key ?? "")" }

    func signed(
        _ method: String, key: String?, query: [(String, String)], headers extra: [(String, String)], body: [UInt8], timeout: Duration,
        keys: AWSCredentials
    ) -> HTTPRequest {
        let host: String
        var path: String
        switch addressing {
        case .path:
            host = endpointHost
            path = "/\(bucket)" + (key.map { "/\($0)" } ?? "")
        case .virtual:
            host = "\(bucket).\(endpointHost)"
            path = "/" + (key ?? "")
        }
        if path.isEmpty { path = "/" }
        let amzDate = SigV4Signer.amzDate(Date())
        var headers: [(String, String)] = [
            ("host", host), ("x-amz-date", amzDate), ("x-amz-content-sha256", Hex.encode(SHA256.hash(body))),
        ]
        if let sessionToken = keys.sessionToken { headers.append(("x-amz-security-token", sessionToken)) }
        // libcurl would label a body form data, which servers may try to parse.
        if method == "PUT" || method == "POST", !extra.contains(where: { $0.0.lowercased() == "content-type" }) {
            headers.append(("content-type", "application/octet-stream"))
        }
        headers += extra.map { ($0.0.lowercased(), $0.1) }
        let signer = SigV4Signer(accessKeyID: keys.accessKeyID, secretAccessKey: keys.secretAccessKey, region: region, service: "s3")
        let signature = signer.sign(method: method, path: path, query: query, headers: headers, payload: body, amzDate: amzDate)
        let queryText = query.map { $0.1.isEmpty ? SigV4Signer.uriEncode($0.0) : "\(SigV4Signer.uriEncode($0.0))=\(SigV4Signer.uriEncode($0.1))" }
            .joined(separator: "&")
        let url = "\(scheme)://\(host)\(SigV4Signer.canonicalPath(path))" + (queryText.isEmpty ? "" : "?\(queryText)")
        return HTTPRequest(
            method: method, url: url, headers: headers.map { (name: $0.0, value: $0.1) } + [("Authorization", signature.authorization)],
            body: method == "GET" || method == "HEAD" || method == "DELETE" ? nil : body, connectTimeout: .seconds(5), timeout: timeout)
    }

    /// Throws the S3 error an unsuccessful answer carries.
    func check(_ response: HTTPResponse, _ operation: String, key: String?, accept: Set<Int> = [200]) throws {
        guard !accept.contains(response.status) else { return }
        throw S3Error.failed(
            operation: operation, target: target(key), status: response.status, code: S3XML.first("Code", in: response.text) ?? "",
            message: S3XML.first("Message", in: response.text) ?? response.text.prefix(200).description)
    }
}

/// A failed S3 call, with what the operator can do about it.
public enum S3Error: Error, CustomStringConvertible, Sendable {
    case failed(operation: String, target: String, status: Int, code: String, message: String)
    case unreachable(operation: String, target: String, detail: String)
    case residency(bucket: String, reported: String, detail: String)
    case credentials(detail: String)

    public var description: String {
        switch self {
        case let .failed(operation, target, status, code, message):
            "S3 \(operation) \(target): HTTP \(status) \(code) \(message)" + Self.hint(code: code, status: status)
        case let .unreachable(operation, target, detail):
            "S3 \(operation) \(target): no answer (\(detail)); check backup.s3.endpoint and the network to it"
        case .credentials(let detail):
            "S3 credentials: \(detail); name the keys in backup.s3 (access_key_id_env/_file, secret_access_key_env/_file) or provide them as AWS's SDKs find them"
        case let .residency(bucket, reported, detail):
            "data residency: bucket \(bucket) is in \(reported) (as the provider reports it): \(detail); nothing was written"
        }
    }

    static func hint(code: String, status: Int) -> String {
        switch code {
        case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken":
            "; check the credentials backup.s3 names (access_key_id, secret_access_key, session_token) and the bucket's policy"
        case "NoSuchBucket": "; create the bucket (in the provider region of backup.repository_region) or fix backup.repository"
        case "RequestTimeTooSkewed": "; this host's clock is off: check NTP"
        case "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "PermanentRedirect":
            "; the bucket is in another region than regions[].provider_region of backup.repository_region says"
        default: status == 403 ? "; check the credentials and the bucket's policy" : ""
        }
    }
}
