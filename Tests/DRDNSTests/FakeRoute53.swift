import DRCrypto
import DRDNS
import Foundation

/// Route 53's REST API (2013-04-01) as documented, for ChangeResourceRecordSets,
/// ListResourceRecordSets and GetChange: every request's SigV4 signature is recomputed
/// with the test secret and compared, and the XML body is checked element by element.
final class FakeRoute53: @unchecked Sendable {
    static let accessKey = "AKIDTESTROUTE53"
    static let secret = "r53-secret-key-never-printed"
    static let zone = "Z1D633PJN98FT9"
    let faults = FaultQueue()
    private let lock = NSLock()
    private var sets: [String: (ttl: Int, values: [String])] = [:]  // "name type"
    private var changePolls: [String: Int] = [:]
    private(set) var server: ContractServer!
    /// A path prefix in front of the API (a proxy), as a `url` with a path sends it.
    let basePath: String
    /// GetChange answers PENDING forever.
    let neverInSync: Bool

    init(records: [(name: String, type: String, ttl: Int, values: [String])], basePath: String = "", neverInSync: Bool = false) throws {
        self.basePath = basePath
        self.neverInSync = neverInSync
        for record in records { sets["\(record.name) \(record.type)"] = (record.ttl, record.values) }
        server = try ContractServer { [unowned self] request in self.handle(request) }
    }

    func values(_ name: String, _ type: String) -> [String]? { lock.withLock { sets["\(name) \(type)"]?.values } }

    private func handle(_ request: ContractServer.Request) -> ContractServer.Reply {
        if let fault = faults.next() { return fault }
        if let problem = signatureProblem(request) { return error(403, "SignatureDoesNotMatch", problem) }
        let rrset = "/2013-04-01/hostedzone/\(Self.zone)/rrset"
        guard request.path.hasPrefix(basePath) else {
            faults.violation("request outside the base path \(basePath): \(request.path)")
            return error(404, "NoSuchHostedZone", "No hosted zone found")
        }
        let path = String(request.path.dropFirst(basePath.count))
        switch (request.method, path) {
        case ("POST", rrset):
            return change(request)
        case ("GET", rrset):
            let name = request.query.first { $0.0 == "name" }?.1 ?? "", type = request.query.first { $0.0 == "type" }?.1 ?? ""
            let found = lock.withLock { sets["\(name) \(type)"] }
            let body =
                found.map { set in
                    "<ResourceRecordSet><Name>\(name)</Name><Type>\(type)</Type><TTL>\(set.ttl)</TTL><ResourceRecords>"
                        + set.values.map { "<ResourceRecord><Value>\($0)</Value></ResourceRecord>" }.joined() + "</ResourceRecords></ResourceRecordSet>"
                } ?? ""
            return xml(
                200,
                "<ListResourceRecordSetsResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ResourceRecordSets>\(body)</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>"
            )
        case ("GET", _) where path.hasPrefix("/2013-04-01/change/"):
            let id = String(path.dropFirst("/2013-04-01/change/".count))
            let polls = lock.withLock { () -> Int in
                changePolls[id, default: 0] += 1; return changePolls[id]!
            }
            let status = polls >= 2 && !neverInSync ? "INSYNC" : "PENDING"
            return xml(
                200,
                "<GetChangeResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeInfo><Id>/change/\(id)</Id><Status>\(status)</Status><SubmittedAt>2026-11-23T00:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>"
            )
        default:
            faults.violation("undocumented call \(request.method) \(request.rawTarget)")
            return error(404, "NoSuchHostedZone", "No hosted zone found")
        }
    }

    private func change(_ request: ContractServer.Request) -> ContractServer.Reply {
        let body = request.text
        if request.headers["content-type"] != "text/xml" { faults.violation("POST without Content-Type text/xml") }
        guard body.contains("<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"),
            let batch = body.range(of: "<ChangeBatch>"), body.range(of: "</ChangeBatch>", range: batch.upperBound..<body.endIndex) != nil
        else {
            faults.violation("not a ChangeResourceRecordSetsRequest in the 2013-04-01 namespace")
            return error(400, "InvalidInput", "Invalid XML")
        }
        var applied: [(String, Int, [String])] = []
        for change in body.components(separatedBy: "<Change>").dropFirst() {
            func tag(_ name: String, in text: String) -> [String] {
                text.components(separatedBy: "<\(name)>").dropFirst().compactMap { $0.components(separatedBy: "</\(name)>").first }
            }
            guard tag("Action", in: change).first == "UPSERT" else { faults.violation("action is not UPSERT"); return error(400, "InvalidChangeBatch", "bad action") }
            guard let name = tag("Name", in: change).first, name.hasSuffix("."), let type = tag("Type", in: change).first, ["A", "AAAA", "CNAME"].contains(type),
                let ttl = tag("TTL", in: change).first.flatMap(Int.init)
            else {
                faults.violation("change lacks Name (fully qualified), Type or TTL")
                return error(400, "InvalidChangeBatch", "bad record set")
            }
            applied.append(("\(name) \(type)", ttl, tag("Value", in: change)))
        }
        lock.withLock { for (key, ttl, values) in applied { sets[key] = (ttl, values) } }
        return xml(
            200,
            "<ChangeResourceRecordSetsResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>PENDING</Status><SubmittedAt>2026-11-23T00:00:00Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>"
        )
    }

    /// Recomputes the signature from what arrived: method, path, query, the signed headers, body.
    private func signatureProblem(_ request: ContractServer.Request) -> String? {
        guard let authorization = request.headers["authorization"], let date = request.headers["x-amz-date"] else {
            return "missing Authorization or X-Amz-Date"
        }
        let prefix = "AWS4-HMAC-SHA256 Credential=\(Self.accessKey)/\(date.prefix(8))/us-east-1/route53/aws4_request, SignedHeaders="
        guard authorization.hasPrefix(prefix), let signedPart = authorization.dropFirst(prefix.count).split(separator: ",").first else {
            faults.violation("credential scope is not route53/us-east-1: \(authorization.prefix(60))")
            return "bad credential scope"
        }
        let names = signedPart.split(separator: ";").map(String.init)
        guard names.contains("host"), names.contains("x-amz-date") else { return "host and x-amz-date must be signed" }
        let headers = names.map { ($0, request.headers[$0] ?? "") }
        let signer = SigV4Signer(accessKeyID: Self.accessKey, secretAccessKey: Self.secret, region: "us-east-1", service: "route53")
        let expected = signer.sign(method: request.method, path: request.path, query: request.query, headers: headers, payload: request.body, amzDate: date)
        return expected.authorization == authorization ? nil : "The request signature we calculated does not match the signature you provided."
    }

    private func xml(_ status: Int, _ body: String) -> ContractServer.Reply {
        .respond(status: status, headers: [("Content-Type", "text/xml")], body: "<?xml version=\"1.0\"?>\n" + body)
    }

    func error(_ status: Int, _ code: String, _ message: String) -> ContractServer.Reply {
        xml(
            status,
            "<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
        )
    }
}
