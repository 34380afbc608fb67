import DRCore
import DRHTTP
import DRSystem
import Foundation
import Synchronization

/// One set of AWS keys, and when they stop working (temporary ones).
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var expiration: Date?
    /// Where they came from, for messages (never the keys themselves).
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil, source: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }
}

/// The keys the S3 client signs with: the ones the config names, or AWS's default chain —
/// the environment, the shared credentials file, web identity (a token file exchanged with
/// STS's AssumeRoleWithWebIdentity), the EC2 instance role through IMDSv2 — in the order
/// AWS's SDKs use. Temporary keys are kept until five minutes before they expire, then
/// fetched again, so a long backup or an agent that runs for months never signs with
/// expired ones.
final class S3CredentialProvider: Sendable {
    enum Source: Sendable {
        case keys
        case chain(profile: String?)
    }

    let source: Source
    /// The bucket's region: STS's regional endpoint is in it.
    let region: String
    let environment: [String: String]
    private let cached: Mutex<AWSCredentials?>
    private let http = HTTPClient()

    init(_ credentials: S3RepositoryConfig.Credentials, region: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.region = region
        self.environment = environment
        switch credentials {
        case .keys(let key, let secret, let token):
            // Read now: a missing secret is a configuration error, reported before any request.
            source = .keys
            cached = Mutex(
                AWSCredentials(
                    accessKeyID: try SecretReader.read(key, what: "backup.s3 access_key_id"),
                    secretAccessKey: try SecretReader.read(secret, what: "backup.s3 secret_access_key"),
                    sessionToken: try token.map { try SecretReader.read($0, what: "backup.s3 session_token") }, source: "the config's keys"))
        case .chain(let profile):
            source = .chain(profile: profile)
            cached = Mutex(nil)
        }
    }

    /// Keys good for at least five more minutes.
    func current() async throws -> AWSCredentials {
        if let fresh = cached.withLock({ $0 }), fresh.expiration.map({ $0.timeIntervalSinceNow > 300 }) ?? true { return fresh }
        guard case .chain(let profile) = source else { throw S3Error.credentials(detail: "the config's keys could not be read") }
        let found = try await resolve(profile: profile)
        cached.withLock { $0 = found }
        return found
    }

    private func resolve(profile: String?) async throws -> AWSCredentials {
        var tried: [String] = []
        if let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty, !secret.isEmpty {
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"], source: "the environment")
        }
        tried.append("environment: no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        let file = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? (environment["HOME"].map { "\($0)/.aws/credentials" } ?? "")
        let name = profile ?? environment["AWS_PROFILE"] ?? "default"
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            if let found = AWSCredentialSources.profile(name, in: text) { return found }
            tried.append("\(file): no profile [\(name)] with aws_access_key_id and aws_secret_access_key")
        } else {
            tried.append("shared credentials: \(file.isEmpty ? "no HOME" : "\(file) unreadable")")
        }
        if let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], let role = environment["AWS_ROLE_ARN"] {
            do { return try await webIdentity(tokenFile: tokenFile, role: role) } catch { tried.append("web identity: \(error)") }
        } else {
            tried.append("web identity: no AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN")
        }
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" {
            do { return try await instanceRole() } catch { tried.append("instance role (IMDSv2): \(error)") }
        }
        throw S3Error.credentials(detail: "no credentials in AWS's default chain; tried " + tried.joined(separator: "; "))
    }

    /// STS AssumeRoleWithWebIdentity: an unsigned request carrying the token (EKS's IRSA, any OIDC provider).
    private func webIdentity(tokenFile: String, role: String) async throws -> AWSCredentials {
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw S3Error.credentials(detail: "\(tokenFile) is empty or unreadable")
        }
        let endpoint = environment["AWS_ENDPOINT_URL_STS"] ?? "https://sts.\(region).amazonaws.com"
        let session = environment["AWS_ROLE_SESSION_NAME"] ?? "drctl-\(ProcessInfo.processInfo.hostName.prefix(40))"
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", role), ("RoleSessionName", session),
            ("WebIdentityToken", token), ("DurationSeconds", "3600"),
        ].map { "\($0.0)=\(AWSCredentialSources.formEncode($0.1))" }.joined(separator: "&")
        let response = try await http.send(
            HTTPRequest(
                method: "POST", url: endpoint + "/", headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: Array(form.utf8),
                connectTimeout: .seconds(5), timeout: .seconds(15)))
        guard response.status == 200, let found = AWSCredentialSources.assumedRole(response.text) else {
            let code = S3XML.first("Code", in: response.text) ?? ""
            throw S3Error.credentials(detail: "STS at \(endpoint) answered \(response.status) \(code) \(S3XML.first("Message", in: response.text) ?? "")")
        }
        return found
    }

    /// IMDSv2: a session token first (PUT, with its TTL), then the role's keys with it.
    private func instanceRole() async throws -> AWSCredentials {
        let endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        let tokenResponse = try await http.send(
            HTTPRequest(
                method: "PUT", url: endpoint + "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], body: [],
                connectTimeout: .seconds(1), timeout: .seconds(2)))
        guard tokenResponse.status == 200, !tokenResponse.text.isEmpty else { throw S3Error.credentials(detail: "no IMDSv2 token (HTTP \(tokenResponse.status))") }
        let header = [("X-aws-ec2-metadata-token", tokenResponse.text)]
        let base = endpoint + "/latest/meta-data/iam/security-credentials/"
        let roles = try await http.send(HTTPRequest(url: base, headers: header, connectTimeout: .seconds(1), timeout: .seconds(2)))
        guard roles.status == 200, let role = roles.text.split(separator: "\n").first.map(String.init) else {
            throw S3Error.credentials(detail: "no instance role (HTTP \(roles.status))")
        }
        let keys = try await http.send(HTTPRequest(url: base + role, headers: header, connectTimeout: .seconds(1), timeout: .seconds(2)))
        guard keys.status == 200, let found = AWSCredentialSources.instanceRole(Data(keys.body), role: role) else {
            throw S3Error.credentials(detail: "the keys of role \(role) could not be read (HTTP \(keys.status))")
        }
        return found
    }
}

/// The formats the chain reads. Pure.
enum AWSCredentialSources {
    /// A profile of the shared credentials file (INI: `[name]`, `key = value`).
    static func profile(_ name: String, in text: String) -> AWSCredentials? {
        var section: String?
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == name, let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        guard let key = values["aws_access_key_id"], let secret = values["aws_secret_access_key"], !key.isEmpty, !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: values["aws_session_token"], source: "profile \(name)")
    }

    /// STS's AssumeRoleWithWebIdentityResponse.
    static func assumedRole(_ xml: String) -> AWSCredentials? {
        guard let block = S3XML.blocks("Credentials", in: xml).first, let key = S3XML.first("AccessKeyId", in: block),
            let secret = S3XML.first("SecretAccessKey", in: block), let token = S3XML.first("SessionToken", in: block)
        else { return nil }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: token, expiration: S3XML.first("Expiration", in: block).flatMap(parseTime),
            source: "web identity")
    }

    /// IMDS's security-credentials document.
    static func instanceRole(_ json: Data, role: String) -> AWSCredentials? {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any], object["Code"] as? String == "Success",
            let key = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String, let token = object["Token"] as? String
        else { return nil }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: token, expiration: (object["Expiration"] as? String).flatMap(parseTime),
            source: "instance role \(role)")
    }

    static func parseTime(_ text: String) -> Date? {
        UTCTime.parse(text)
    }

    /// application/x-www-form-urlencoded, as STS reads it.
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
