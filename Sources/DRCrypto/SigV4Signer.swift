import DRCore
import Foundation

/// AWS Signature Version 4 for one service and region (Route 53: `route53`, `us-east-1`; S3),
/// over libcrypto's SHA-256 and HMAC. Checked against AWS's published test-suite vectors.
public struct SigV4Signer: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var region: String
    public var service: String

    public init(accessKeyID: String, secretAccessKey: String, region: String, service: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// The pieces of one signature, exposed so tests can compare each step with AWS's.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        public var authorization: String
    }

    /// Signs a request. `path` is the unencoded path, `query` the unencoded parameters;
    /// `headers` must include `host` and `x-amz-date` (see `amzDate`).
    public func sign(
        method: String, path: String, query: [(String, String)], headers: [(String, String)],
        payload: [UInt8], amzDate: String
    ) -> Signature {
        let canonicalHeaders =
            headers
            .map { (name: $0.0.lowercased(), value: Self.collapseSpaces($0.1)) }
            .sorted { $0.name < $1.name }
        let signedHeaders = canonicalHeaders.map(\.name).joined(separator: ";")
        let encoded: [(name: String, value: String)] = query.map { (Self.uriEncode($0.0), Self.uriEncode($0.1)) }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        let canonicalQuery = sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let canonicalRequest = [
            method,
            Self.canonicalPath(path),
            canonicalQuery,
            canonicalHeaders.map { "\($0.name):\($0.value)\n" }.joined(),
            signedHeaders,
            Hex.encode(SHA256.hash(payload)),
        ].joined(separator: "\n")
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Hex.encode(SHA256.hash(Array(canonicalRequest.utf8)))].joined(separator: "\n")
        let signature = Hex.encode(HMACSHA256.mac(key: signingKey(day: day), message: Array(stringToSign.utf8)))
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, signedHeaders: signedHeaders,
            authorization: "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)")
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    public func signingKey(day: String) -> [UInt8] {
        [day, region, service, "aws4_request"].reduce(Array("AWS4\(secretAccessKey)".utf8)) { key, part in
            HMACSHA256.mac(key: key, message: Array(part.utf8))
        }
    }

    /// `20150830T123600Z` for `date`, in UTC.
    public static func amzDate(_ date: Date) -> String {
        UTCTime.compact(date)
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, every other byte
    /// as upper-case %XX.
    public static func uriEncode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if c.isASCII, c.isLetter || c.isNumber || "-_.~".contains(c) || (keepSlash && c == "/") {
                out.append(c)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    public static func canonicalPath(_ path: String) -> String {
        path.isEmpty ? "/" : uriEncode(path, keepSlash: true)
    }

    static func collapseSpaces(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
