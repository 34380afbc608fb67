import Foundation

/// Cloudflare API v4 as its documentation describes it, for the parts drctl uses: it
/// checks every request (method, path, Bearer token, JSON body schema, TTL rules) and
/// records a violation for anything the real API would refuse or drctl should not send.
final class FakeCloudflare: @unchecked Sendable {
    static let token = "cf-test-token-3f9a1c"
    static let zoneID = "023e105f4ecef8ad9ca31a8372d0c353"
    let faults = FaultQueue()
    /// What `GET /user/tokens/verify` reports: active, disabled or expired.
    var tokenStatus = "active"
    private let lock = NSLock()
    /// Records by id: name (no trailing dot), type, content, ttl, proxied.
    private var store: [String: [String: Any]] = [:]
    private var nextID = 1
    private(set) var server: ContractServer!

    init(records: [(name: String, type: String, content: String, ttl: Int)]) throws {
        for record in records { _ = insert(["name": record.name, "type": record.type, "content": record.content, "ttl": record.ttl, "proxied": false]) }
        server = try ContractServer { [unowned self] request in self.handle(request) }
    }

    var baseURL: String { server.baseURL + "/client/v4" }

    func records(named name: String) -> [[String: Any]] { lock.withLock { store.values.filter { $0["name"] as? String == name } } }

    private func insert(_ record: [String: Any]) -> String {
        lock.withLock {
            let id = String(format: "%032x", nextID)
            nextID += 1
            var copy = record
            copy["id"] = id
            store[id] = copy
            return id
        }
    }

    private func handle(_ request: ContractServer.Request) -> ContractServer.Reply {
        if let fault = faults.next() { return fault }
        guard request.headers["authorization"] == "Bearer \(Self.token)" else {
            return reply(403, errors: [(9109, "Invalid access token")])
        }
        let prefix = "/client/v4"
        guard request.path.hasPrefix(prefix) else { return reply(404, errors: [(7003, "No route for the URI")]) }
        let path = String(request.path.dropFirst(prefix.count))
        let records = "/zones/\(Self.zoneID)/dns_records"
        switch (request.method, path) {
        case ("GET", "/user/tokens/verify"):
            var result: [String: Any] = ["id": "ed17574386854bf78a67040be0a770b0", "status": tokenStatus]
            if tokenStatus == "expired" { result["expires_on"] = "2026-01-01T00:00:00Z" }
            return reply(200, result: result)
        case ("GET", "/zones"):
            let name = request.query.first { $0.0 == "name" }?.1
            return reply(200, result: name == "example.com" ? [["id": Self.zoneID, "name": "example.com", "status": "active"]] : [])
        case ("GET", records):
            let name = request.query.first { $0.0 == "name" }?.1, type = request.query.first { $0.0 == "type" }?.1
            if name?.hasSuffix(".") == true { faults.violation("record names are sent without the trailing dot: \(name!)") }
            let found = lock.withLock { store.values.filter { (name == nil || $0["name"] as? String == name) && (type == nil || $0["type"] as? String == type) } }
            return reply(200, result: found)
        case ("POST", records):
            guard let body = checkedRecord(request, requireID: false) else { return reply(400, errors: [(9005, "Content for record is invalid")]) }
            let id = insert(body)
            return reply(200, result: lock.withLock { store[id]! })
        case ("POST", records + "/batch"):
            return batch(request)
        case ("PATCH", _) where path.hasPrefix(records + "/"):
            let id = String(path.dropFirst(records.count + 1))
            guard lock.withLock({ store[id] }) != nil else { return reply(404, errors: [(81044, "Record does not exist.")]) }
            guard let body = checkedRecord(request, requireID: false) else { return reply(400, errors: [(9005, "Content for record is invalid")]) }
            let updated = lock.withLock { () -> [String: Any] in
                store[id]!.merge(body) { $1 }
                return store[id]!
            }
            return reply(200, result: updated)
        default:
            faults.violation("undocumented call \(request.method) \(request.rawTarget)")
            return reply(404, errors: [(7003, "No route for the URI")])
        }
    }

    private func batch(_ request: ContractServer.Request) -> ContractServer.Reply {
        guard request.headers["content-type"] == "application/json",
            let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
        else {
            faults.violation("batch body is not JSON")
            return reply(400, errors: [(9207, "Request body is invalid")])
        }
        for key in body.keys where !["deletes", "patches", "puts", "posts"].contains(key) { faults.violation("unknown batch key \(key)") }
        for delete in body["deletes"] as? [[String: Any]] ?? [] {
            guard let id = delete["id"] as? String else { faults.violation("delete without id"); continue }
            _ = lock.withLock { store.removeValue(forKey: id) }
        }
        for patch in body["patches"] as? [[String: Any]] ?? [] {
            guard let id = patch["id"] as? String, validRecord(patch, allowID: true) else { return reply(400, errors: [(9005, "invalid patch")]) }
            lock.withLock { store[id]?.merge(patch) { $1 } }
        }
        for post in body["posts"] as? [[String: Any]] ?? [] {
            guard validRecord(post, allowID: false) else { return reply(400, errors: [(9005, "invalid post")]) }
            _ = insert(post)
        }
        return reply(200, result: [:] as [String: Any])
    }

    private func checkedRecord(_ request: ContractServer.Request, requireID: Bool) -> [String: Any]? {
        guard request.headers["content-type"] == "application/json" else {
            faults.violation("\(request.method) \(request.path) without Content-Type: application/json")
            return nil
        }
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any], validRecord(body, allowID: false) else { return nil }
        return body
    }

    /// The record schema: type, name, content, ttl required; proxied a boolean; TTL 1 or 60–86400.
    private func validRecord(_ record: [String: Any], allowID: Bool) -> Bool {
        let allowed = Set(["type", "name", "content", "ttl", "proxied", "comment"] + (allowID ? ["id"] : []))
        var ok = true
        for key in record.keys where !allowed.contains(key) { faults.violation("unknown record field \(key)"); ok = false }
        guard let type = record["type"] as? String, ["A", "AAAA", "CNAME"].contains(type), let name = record["name"] as? String,
            record["content"] is String, let ttl = record["ttl"] as? Int
        else {
            faults.violation("record lacks type, name, content or ttl: \(record)")
            return false
        }
        if name.hasSuffix(".") { faults.violation("name with a trailing dot: \(name)"); ok = false }
        if !(ttl == 1 || (60...86400).contains(ttl)) { faults.violation("TTL \(ttl) outside 1 or 60–86400"); ok = false }
        if let proxied = record["proxied"], !(proxied is Bool) { faults.violation("proxied is not a boolean"); ok = false }
        if record["proxied"] as? Bool == true { faults.violation("a database record must not be proxied"); ok = false }
        return ok
    }

    private func reply(_ status: Int, result: Any? = nil, errors: [(Int, String)] = []) -> ContractServer.Reply {
        let body: [String: Any] = [
            "success": errors.isEmpty, "errors": errors.map { ["code": $0.0, "message": $0.1] }, "messages": [],
            "result": result ?? NSNull(),
        ]
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: body)) ?? Data(), as: UTF8.self)
        return .respond(status: status, headers: [("Content-Type", "application/json")], body: text)
    }
}
