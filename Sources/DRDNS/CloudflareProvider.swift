import DRCore
import DRHTTP
import Foundation

/// Cloudflare API v4 with a Bearer token: the zone id and record ids are looked up by
/// name, then one record is changed with `PATCH /zones/{zone_id}/dns_records/{id}` (or
/// created with POST), and several at once with `POST .../dns_records/batch`. Records
/// are always DNS-only (`proxied: false`): a proxied record would not answer with the
/// database's address. TTL 1 means "automatic", otherwise 60–86400 seconds.
public struct CloudflareProvider: DNSProvider {
    public let name: String
    let baseURL: String
    let zone: String
    let token: String
    let transport: ProviderTransport

    public init(name: String, url: String = "https://api.cloudflare.com/client/v4", zone: String, token: String) {
        self.name = name
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.zone = FQDN.normalized(zone)
        self.token = token
        transport = ProviderTransport(provider: name, errorMessage: Self.errorMessage)
    }

    /// Cloudflare writes names without the trailing dot.
    static func bare(_ name: String) -> String { name.hasSuffix(".") ? String(name.dropLast()) : name }

    public static func validTTL(_ seconds: Int) -> Bool { seconds == 1 || (60...86400).contains(seconds) }

    public func read(name recordName: String, type: DNSRecordType, deadline: ContinuousClock.Instant) async throws -> DNSRecordSet? {
        let zoneID = try await zoneID(deadline: deadline)
        let records = try await records(zoneID: zoneID, name: recordName, type: type, deadline: deadline)
        guard let first = records.first else { return nil }
        return DNSRecordSet(name: recordName, type: type, ttlSeconds: first.ttl, values: records.map(\.content))
    }

    /// `GET /user/tokens/verify`: the token must be `active` (not `disabled` or `expired`).
    /// Cloudflare offers no dry run of an edit: what the token may edit is not checkable.
    public func credentialProblem(deadline: ContinuousClock.Instant) async throws -> String? {
        let path = "/user/tokens/verify"
        guard let result = try await call("GET", path: path, deadline: deadline) as? [String: Any], let status = result["status"] as? String else {
            throw DNSProviderError(.malformed, provider: name, operation: "GET \(path)", message: "result has no token status")
        }
        guard status == "active" else {
            let expiry = (result["expires_on"] as? String).map { " (expires_on \($0))" } ?? ""
            return "the API token is \(status)\(expiry): every DNS switch would be refused"
        }
        return nil
    }

    public func upsert(_ sets: [DNSRecordSet], comment: String, deadline: ContinuousClock.Instant, check: @escaping DNSWriteCheck) async throws {
        for set in sets where !Self.validTTL(set.ttlSeconds) || set.values.count != 1 {
            throw DNSProviderError(
                .configuration, provider: name, operation: "upsert \(set.name)",
                message: set.values.count != 1
                    ? "drctl manages single-value records on Cloudflare, \(set.name) has \(set.values.count)"
                    : "TTL \(set.ttlSeconds)s is not allowed by Cloudflare (1 = automatic, or 60–86400)")
        }
        let zoneID = try await zoneID(deadline: deadline)
        var patches: [[String: Any]] = [], posts: [[String: Any]] = [], deletes: [[String: Any]] = []
        for set in sets {
            let existing = try await records(zoneID: zoneID, name: set.name, type: set.type, deadline: deadline)
            var fields = Self.recordFields(set, comment: comment)
            if let first = existing.first {
                fields["id"] = first.id
                patches.append(fields)
                deletes += existing.dropFirst().map { ["id": $0.id] }
            } else {
                posts.append(fields)
            }
        }
        if patches.count + posts.count + deletes.count == 1, let patch = patches.first, let id = patch["id"] as? String {
            var body = patch
            body["id"] = nil
            let path = "/zones/\(zoneID)/dns_records/\(id)"
            let response = try await transport.send(request("PATCH", path: path, body: body), operation: "PATCH \(path)", deadline: deadline, check: check)
            try checkSuccess(response, operation: "PATCH \(path)")
        } else if patches.isEmpty, deletes.isEmpty, posts.count == 1, let post = posts.first {
            let path = "/zones/\(zoneID)/dns_records"
            let response = try await transport.send(request("POST", path: path, body: post), operation: "POST \(path)", deadline: deadline, check: check)
            try checkSuccess(response, operation: "POST \(path)")
        } else if !(patches.isEmpty && posts.isEmpty && deletes.isEmpty) {
            var body: [String: Any] = [:]
            if !deletes.isEmpty { body["deletes"] = deletes }
            if !patches.isEmpty { body["patches"] = patches }
            if !posts.isEmpty { body["posts"] = posts }
            let path = "/zones/\(zoneID)/dns_records/batch"
            let response = try await transport.send(request("POST", path: path, body: body), operation: "POST \(path)", deadline: deadline, check: check)
            try checkSuccess(response, operation: "POST \(path)")
        }
    }

    static func recordFields(_ set: DNSRecordSet, comment: String) -> [String: Any] {
        [
            "type": set.type.rawValue, "name": bare(set.name), "content": set.type == .cname ? bare(set.values[0]) : set.values[0],
            "ttl": set.ttlSeconds, "proxied": false, "comment": comment,
        ]
    }

    struct Record {
        var id: String
        var content: String
        var ttl: Int
    }

    private func zoneID(deadline: ContinuousClock.Instant) async throws -> String {
        let path = "/zones?name=\(Self.bare(zone))"
        let result = try await call("GET", path: path, deadline: deadline)
        guard let zones = result as? [[String: Any]] else {
            throw DNSProviderError(.malformed, provider: name, operation: "GET \(path)", message: "result is not a list of zones")
        }
        guard let id = zones.first(where: { ($0["name"] as? String).map(FQDN.normalized) == zone })?["id"] as? String else {
            throw DNSProviderError(.rejected(status: 404), provider: name, operation: "GET \(path)", message: "no zone named \(Self.bare(zone)) is visible to this token")
        }
        return id
    }

    private func records(zoneID: String, name recordName: String, type: DNSRecordType, deadline: ContinuousClock.Instant) async throws -> [Record] {
        let path = "/zones/\(zoneID)/dns_records?name=\(Self.bare(FQDN.normalized(recordName)))&type=\(type.rawValue)"
        guard let list = try await call("GET", path: path, deadline: deadline) as? [[String: Any]] else {
            throw DNSProviderError(.malformed, provider: name, operation: "GET \(path)", message: "result is not a list of records")
        }
        return try list.map { item in
            guard let id = item["id"] as? String, let content = item["content"] as? String, let ttl = item["ttl"] as? Int else {
                throw DNSProviderError(.malformed, provider: name, operation: "GET \(path)", message: "a record lacks id, content or ttl")
            }
            return Record(id: id, content: content, ttl: ttl)
        }
    }

    /// A GET, checked for `success`, returning `result`.
    private func call(_ method: String, path: String, deadline: ContinuousClock.Instant) async throws -> Any {
        let response = try await transport.send(request(method, path: path, body: nil), operation: "\(method) \(path)", deadline: deadline)
        return try checkSuccess(response, operation: "\(method) \(path)")
    }

    @discardableResult
    private func checkSuccess(_ response: HTTPResponse, operation: String) throws -> Any {
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], let success = object["success"] as? Bool else {
            throw DNSProviderError(.malformed, provider: name, operation: operation, message: "not a Cloudflare API answer: \(String(response.text.prefix(120)))")
        }
        guard success else {
            throw DNSProviderError(.rejected(status: response.status), provider: name, operation: operation, message: Self.errorMessage(response))
        }
        return object["result"] ?? NSNull()
    }

    private func request(_ method: String, path: String, body: [String: Any]?) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(token)"), ("Accept", "application/json")]
        var bytes: [UInt8]?
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data())
        }
        return HTTPRequest(method: method, url: baseURL + path, headers: headers, body: bytes)
    }

    /// Cloudflare answers `{"success": false, "errors": [{"code": 1234, "message": "..."}]}`.
    static func errorMessage(_ response: HTTPResponse) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let errors = object["errors"] as? [[String: Any]], !errors.isEmpty
        {
            return errors.map { "\($0["code"].map { "\($0)" } ?? "?"): \($0["message"] as? String ?? "")" }.joined(separator: "; ")
        }
        return response.text.isEmpty ? "empty answer" : String(response.text.prefix(200))
    }
}
