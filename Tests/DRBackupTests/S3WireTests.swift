import DRCore
import DRHTTP
import Foundation
import Testing

@testable import DRBackup

/// The S3 wire details that the lab's server does not vary: XML answers as AWS writes
/// them, and how requests are addressed.
@Suite struct S3WireTests {
    @Test func listingsAsAWSWritesThem() {
        let page = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>
            <IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
            <Contents><Key>p/a&amp;b.dump</Key><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>10</Size></Contents>
            <Contents><Key>p/c</Key><Size>0</Size></Contents>
            <CommonPrefixes><Prefix>p/wal/</Prefix></CommonPrefixes><KeyMarker/></ListBucketResult>
            """
        #expect(S3XML.blocks("Contents", in: page).compactMap { S3XML.first("Key", in: $0) } == ["p/a&b.dump", "p/c"])
        #expect(S3XML.first("ETag", in: page) == "\"9b2cf535f27731c974343645a3985328\"")
        #expect(S3XML.first("IsTruncated", in: page) == "true")
        #expect(S3XML.first("NextContinuationToken", in: page) == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(S3XML.all("Prefix", in: page) == ["p/", "p/wal/"], "<KeyMarker/> and <Prefix> inside CommonPrefixes; not <PrefixX>")
        #expect(S3XML.first("KeyMarker", in: page) == "")
    }

    @Test func bucketLocations() {
        #expect(S3XML.first("LocationConstraint", in: #"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>"#) == "eu-west-1")
        #expect(S3Store.region(fromLocationConstraint: "") == "us-east-1", "an empty constraint is us-east-1")
        #expect(S3Store.region(fromLocationConstraint: "EU") == "eu-west-1")
        #expect(S3Store.region(fromLocationConstraint: "ap-south-1") == "ap-south-1")
    }

    /// What S3 says when it means "try again" (AWS's error responses page): these are
    /// retried; an answer about the request itself is not.
    @Test(arguments: [
        (503, "<Error><Code>SlowDown</Code></Error>", true), (500, "<Error><Code>InternalError</Code></Error>", true), (502, "", true),
        (504, "", true), (429, "", true), (400, "<Error><Code>RequestTimeout</Code></Error>", true),
        (400, "<Error><Code>InvalidArgument</Code></Error>", false), (403, "<Error><Code>AccessDenied</Code></Error>", false),
        (404, "<Error><Code>NoSuchKey</Code></Error>", false), (200, "", false), (206, "", false),
    ])
    func transientAnswers(status: Int, body: String, transient: Bool) {
        #expect(S3Client.isTransient(HTTPResponse(status: status, headers: [:], body: Array(body.utf8))) == transient)
    }

    static func client(_ addressing: S3RepositoryConfig.Addressing, endpoint: String?) throws -> S3Client {
        let config = S3RepositoryConfig(
            bucket: "shop-backups", prefix: "", endpoint: endpoint, addressing: addressing, partSize: 5 << 20,
            accessKeyID: .environment("PATH"), secretAccessKey: .environment("PATH"))
        return try S3Client(config: config, region: "eu-west-1")
    }

    static let keys = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret", source: "test")

    @Test func addressing() throws {
        let virtual = try Self.client(.virtual, endpoint: nil).signed("GET", key: "lab/x:1/m.json", query: [], headers: [], body: [], timeout: .seconds(1), keys: Self.keys)
        #expect(virtual.url == "https://shop-backups.s3.eu-west-1.amazonaws.com/lab/x%3A1/m.json")
        #expect(virtual.headers.first { $0.name == "host" }?.value == "shop-backups.s3.eu-west-1.amazonaws.com")
        let path = try Self.client(.path, endpoint: "http://127.0.0.1:9000").signed(
            "POST", key: "k", query: [("uploads", "")], headers: [], body: [], timeout: .seconds(1), keys: Self.keys)
        #expect(path.url == "http://127.0.0.1:9000/shop-backups/k?uploads")
        #expect(path.headers.first { $0.name == "host" }?.value == "127.0.0.1:9000")
        #expect(path.headers.contains { $0.name == "content-type" && $0.value == "application/octet-stream" }, "never libcurl's form type")
        let list = try Self.client(.path, endpoint: "http://127.0.0.1:9000").signed(
            "GET", key: nil, query: [("list-type", "2"), ("prefix", "lab/a b")], headers: [], body: [], timeout: .seconds(1), keys: Self.keys)
        #expect(list.url == "http://127.0.0.1:9000/shop-backups?list-type=2&prefix=lab%2Fa%20b")
        #expect(list.body == nil)
    }

    /// The formats AWS's default chain reads, as AWS documents them.
    @Test func credentialSources() throws {
        let file = """
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = s1
            # a comment
            [backups]
            aws_access_key_id=AKIDBACKUPS
            aws_secret_access_key=s2
            aws_session_token=tok
            """
        #expect(AWSCredentialSources.profile("backups", in: file) == AWSCredentials(accessKeyID: "AKIDBACKUPS", secretAccessKey: "s2", sessionToken: "tok", source: "profile backups"))
        #expect(AWSCredentialSources.profile("default", in: file)?.accessKeyID == "AKIDDEFAULT")
        #expect(AWSCredentialSources.profile("other", in: file) == nil)
        let sts = """
            <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
            <Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>s3</SecretAccessKey><SessionToken>FQo</SessionToken>
            <Expiration>2026-12-07T06:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
            """
        let assumed = try #require(AWSCredentialSources.assumedRole(sts))
        #expect(assumed.accessKeyID == "ASIAX" && assumed.sessionToken == "FQo" && assumed.expiration == ISO8601DateFormatter().date(from: "2026-12-07T06:00:00Z"))
        let imds = #"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAY","SecretAccessKey":"s4","Token":"IQo","Expiration":"2026-12-07T06:00:00Z"}"#
        #expect(AWSCredentialSources.instanceRole(Data(imds.utf8), role: "db")?.sessionToken == "IQo")
        #expect(AWSCredentialSources.instanceRole(Data(#"{"Code":"Failure"}"#.utf8), role: "db") == nil)
        #expect(AWSCredentialSources.formEncode("a b+c/=") == "a%20b%2Bc%2F%3D")
    }
}
