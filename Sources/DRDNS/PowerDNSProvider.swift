import DRCore
import DRHTTP
import Foundation

/// PowerDNS Authoritative's HTTP API: `X-API-Key`, the zone read with GET, record sets
/// replaced with one `PATCH .../zones/ZONE` (`changetype: REPLACE`) for all of them.
public struct PowerDNSProvider: DNSProvider {
    public let name: String
    let baseURL: String
    let serverID: String
    let zone: String
    let apiKey: String
    let transport: ProviderTransport

    public init(name: String, url: String, serverID: String = "localhost", zone: String, apiKey: String) {
        self.name = name
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.serverID = serverID
        self.zone = FQDN.normalized(zone)
        self.apiKey = apiKey
        transport = ProviderTransport(provider: name, errorMessage: Self.errorMessage)
    }

    var zonePath: String { "/api/v1/servers/\(serverID)/zones/\(zone)" }

    public func read(name recordName: String, type: DNSRecordType, deadline: ContinuousClock.Instant) async throws -> DNSRecordSet? {
        let operation = "GET \(zonePath)"
        let response = try await transport.send(request("GET", body: nil), operation: operation, deadline: deadline)
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let rrsets = object["rrsets"] as? [[String: Any]]
        else {
            throw DNSProviderError(.malformed, provider: name, operation: operation, message: "no rrsets in the zone")
        }
        let wanted = FQDN.normalized(recordName)
        guard let set = rrsets.first(where: { ($0["name"] as? String).map(FQDN.normalized) == wanted && $0["type"] as? String == type.rawValue }) else {
            return nil
        }
        guard let ttl = set["ttl"] as? Int, let records = set["records"] as? [[String: Any]] else {
            throw DNSProviderError(.malformed, provider: name, operation: operation, message: "rrset \(wanted) \(type.rawValue) lacks ttl or records")
        }
        let values = records.filter { ($0["disabled"] as? Bool) != true }.compactMap { $0["content"] as? String }
        return values.isEmpty ? nil : DNSRecordSet(name: wanted, type: type, ttlSeconds: ttl, values: values)
    }

    public func upsert(_ sets: [DNSRecordSet], comment: String, deadline: ContinuousClock.Instant, check: @escaping DNSWriteCheck) async throws {
        let body = Self.patchBody(sets, comment: comment)
        _ = try await transport.send(request("PATCH", body: body), operation: "PATCH \(zonePath)", deadline: deadline, check: check)
    }

    /// `{"rrsets":[{"name","type","ttl","changetype":"REPLACE","records":[{"content","disabled"}]}]}`.
    static func patchBody(_ sets: [DNSRecordSet], comment: String) -> [UInt8] {
        let rrsets: [[String: Any]] = sets.map { set in
            [
                "name": set.name, "type": set.type.rawValue, "ttl": set.ttlSeconds, "changetype": "REPLACE",
                "records": set.values.map { ["content": $0, "disabled": false] as [String: Any] },
                "comments": [["content": comment, "account": "drctl"]],
            ]
        }
        return Array((try? JSONSerialization.data(withJSONObject: ["rrsets": rrsets], options: [.sortedKeys])) ?? Data())
    }

    private func request(_ method: String, body: [UInt8]?) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [("X-API-Key", apiKey), ("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return HTTPRequest(method: method, url: baseURL + zonePath, headers: headers, body: body)
    }

    /// PowerDNS answers errors as `{"error": "..."}`.
    static func errorMessage(_ response: HTTPResponse) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], let error = object["error"] as? String {
            return error
        }
        return response.text.isEmpty ? "empty answer" : String(response.text.prefix(200))
    }
}
