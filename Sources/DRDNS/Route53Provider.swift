import DRCore
import DRCrypto
import DRHTTP
import Foundation

/// Amazon Route 53's REST API (2013-04-01), signed with SigV4 (service `route53`, region
/// `us-east-1`): one `ChangeResourceRecordSets` call with an UPSERT per record set, then
/// `GetChange` polled until the change is `INSYNC` on all of Route 53's name servers.
public struct Route53Provider: DNSProvider {
    public let name: String
    let baseURL: String
    /// The `Host` header as libcurl sends it (and so as it must be signed): a default port
    /// given explicitly in `url` is left out.
    let host: String
    /// A path prefix in `url` (a proxy in front of the API): sent, so signed too.
    let basePath: String
    let hostedZoneID: String
    let signer: SigV4Signer
    let transport: ProviderTransport
    /// How often `GetChange` is polled.
    var pollInterval: Duration = .milliseconds(500)

    static let namespace = "https://route53.amazonaws.com/doc/2013-04-01/"

    public init(
        name: String, url: String = "https://route53.amazonaws.com", hostedZoneID: String, accessKeyID: String, secretAccessKey: String,
        pollInterval: Duration = .milliseconds(500)
    ) {
        self.name = name
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        (host, basePath) = Self.signedEndpoint(baseURL)
        // Accept the id as the console shows it (`/hostedzone/Z…`) or bare.
        self.hostedZoneID = hostedZoneID.split(separator: "/").last.map(String.init) ?? hostedZoneID
        signer = SigV4Signer(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, region: "us-east-1", service: "route53")
        var transport = ProviderTransport(provider: name, errorMessage: Self.errorMessage)
        // Route 53 throttles with HTTP 400 and these codes; they are worth waiting for.
        transport.retryableBody = { response in
            let code = XMLText.text("Code", in: Substring(response.text))
            return code == "Throttling" || code == "PriorRequestNotComplete"
        }
        self.transport = transport
        self.pollInterval = pollInterval
    }

    var rrsetPath: String { "/2013-04-01/hostedzone/\(hostedZoneID)/rrset" }

    /// The host and base path of `url` exactly as a request to it goes out: SigV4 signs the
    /// `Host` header and the whole path, and libcurl leaves a scheme's default port out of
    /// `Host` (so `https://route53.amazonaws.com:443` is signed as `route53.amazonaws.com`).
    public static func signedEndpoint(_ url: String) -> (host: String, basePath: String) {
        let scheme = url.range(of: "://").map { String(url[..<$0.lowerBound]).lowercased() } ?? "https"
        let rest = url.range(of: "://").map { url[$0.upperBound...] } ?? Substring(url)
        let authority = rest.prefix { $0 != "/" }
        var basePath = String(rest.dropFirst(authority.count))
        while basePath.hasSuffix("/") { basePath.removeLast() }
        let hostPart = authority.split(separator: "@").last.map(String.init) ?? String(authority)
        let defaultPort = scheme == "http" ? ":80" : ":443"
        let host = hostPart.hasSuffix(defaultPort) ? String(hostPart.dropLast(defaultPort.count)) : hostPart
        return (host.lowercased(), basePath)
    }

    public func read(name recordName: String, type: DNSRecordType, deadline: ContinuousClock.Instant) async throws -> DNSRecordSet? {
        let wanted = FQDN.normalized(recordName)
        // ListResourceRecordSets starts at name/type in Route 53's order: check it is ours.
        let query = [("name", wanted), ("type", type.rawValue), ("maxitems", "1")]
        let response = try await send("GET", path: rrsetPath, query: query, body: [], deadline: deadline)
        let operation = "GET \(rrsetPath)"
        guard response.text.contains("ListResourceRecordSetsResponse") else {
            throw DNSProviderError(.malformed, provider: name, operation: operation, message: "not a ListResourceRecordSetsResponse")
        }
        for set in XMLText.elements("ResourceRecordSet", in: Substring(response.text)) {
            guard let setName = XMLText.text("Name", in: set), FQDN.normalized(setName) == wanted,
                XMLText.text("Type", in: set) == type.rawValue
            else { continue }
            guard let ttl = XMLText.text("TTL", in: set).flatMap(Int.init) else {
                throw DNSProviderError(.malformed, provider: name, operation: operation, message: "\(wanted) has no TTL (an alias record is not managed by drctl)")
            }
            let values = XMLText.elements("Value", in: set).map(XMLText.unescape)
            return DNSRecordSet(name: wanted, type: type, ttlSeconds: ttl, values: values)
        }
        return nil
    }

    public func upsert(_ sets: [DNSRecordSet], comment: String, deadline: ContinuousClock.Instant, check: @escaping DNSWriteCheck) async throws {
        let response = try await send(
            "POST", path: rrsetPath, query: [], body: Array(Self.changeBatch(sets, comment: comment).utf8), deadline: deadline,
            check: check)
        guard let changeID = XMLText.text("Id", in: Substring(response.text)) else {
            throw DNSProviderError(.malformed, provider: name, operation: "POST \(rrsetPath)", message: "no ChangeInfo Id in the answer")
        }
        try await waitInSync(changeID: changeID.split(separator: "/").last.map(String.init) ?? changeID, deadline: deadline)
    }

    /// Polls `GET /2013-04-01/change/{Id}` until `INSYNC`.
    func waitInSync(changeID: String, deadline: ContinuousClock.Instant) async throws {
        let path = "/2013-04-01/change/\(changeID)"
        let pending = DNSProviderError(
            .unavailable, provider: name, operation: "GET \(path)",
            message: "change \(changeID) accepted but still PENDING at the deadline (Route 53 applies it; re-verify later)")
        while true {
            let response: HTTPResponse
            do {
                response = try await send("GET", path: path, query: [], body: [], deadline: deadline)
            } catch let error as DNSProviderError where error.kind == .unavailable {
                // The change was accepted: it is pending, whatever the last poll ran into.
                throw pending
            }
            switch XMLText.text("Status", in: Substring(response.text)) {
            case "INSYNC": return
            case "PENDING": break
            case let other:
                throw DNSProviderError(.malformed, provider: name, operation: "GET \(path)", message: "unexpected change status \(other ?? "none")")
            }
            guard ContinuousClock().now + pollInterval < deadline else { throw pending }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// The request body, exposed for the contract tests.
    public static func changeBatchForTesting(_ sets: [DNSRecordSet], comment: String) -> String { changeBatch(sets, comment: comment) }

    static func changeBatch(_ sets: [DNSRecordSet], comment: String) -> String {
        let changes = sets.map { set in
            let values = set.values.map { "<ResourceRecord><Value>\(XMLText.escape($0))</Value></ResourceRecord>" }.joined()
            return "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>\(XMLText.escape(set.name))</Name><Type>\(set.type.rawValue)</Type>"
                + "<TTL>\(set.ttlSeconds)</TTL><ResourceRecords>\(values)</ResourceRecords></ResourceRecordSet></Change>"
        }.joined()
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"\(namespace)\"><ChangeBatch>"
            + "<Comment>\(XMLText.escape(comment))</Comment><Changes>\(changes)</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"
    }

    private func send(
        _ method: String, path: String, query: [(String, String)], body: [UInt8], deadline: ContinuousClock.Instant,
        check: DNSWriteCheck? = nil
    ) async throws -> HTTPResponse {
        let queryText = query.map { "\(SigV4Signer.uriEncode($0.0))=\(SigV4Signer.uriEncode($0.1))" }.joined(separator: "&")
        var request = HTTPRequest(method: method, url: baseURL + path + (queryText.isEmpty ? "" : "?" + queryText), body: body.isEmpty ? nil : body)
        if !body.isEmpty { request.headers.append(("Content-Type", "text/xml")) }
        let signer = signer, host = host, signedPath = basePath + path
        return try await transport.send(request, operation: "\(method) \(path)", deadline: deadline, check: check) { request in
            var signed = request
            let amzDate = SigV4Signer.amzDate(Date())
            var headers = [("host", host), ("x-amz-date", amzDate)]
            if !body.isEmpty { headers.append(("content-type", "text/xml")) }
            let signature = signer.sign(method: method, path: signedPath, query: query, headers: headers, payload: body, amzDate: amzDate)
            signed.headers.append(("X-Amz-Date", amzDate))
            signed.headers.append(("Authorization", signature.authorization))
            return signed
        }
    }

    /// Route 53 answers `<ErrorResponse><Error><Type/><Code/><Message/></Error>…`.
    static func errorMessage(_ response: HTTPResponse) -> String {
        let xml = Substring(response.text)
        if let code = XMLText.text("Code", in: xml) {
            return "\(code): \(XMLText.text("Message", in: xml) ?? "")"
        }
        return response.text.isEmpty ? "empty answer" : String(response.text.prefix(200))
    }
}
