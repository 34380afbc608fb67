import DRCore
import DRHTTP
import Foundation

/// A repository in an S3 bucket under a key prefix, with the same layout as a directory
/// repository. Writes are refused until the bucket's region, as the provider reports it,
/// is the one data residency allows.
public struct S3Store: ObjectStore {
    public let client: S3Client
    /// "" or "some/prefix/".
    let prefix: String
    let partSize: Int
    /// The provider region the bucket must be in: that of `backup.repository_region`.
    let expectedRegion: String
    /// The provider regions of `backup.allowed_regions`, with our name for each.
    let allowedRegions: [String: String]

    public init(config: S3RepositoryConfig, expectedRegion: String, allowedRegions: [String: String]) throws {
        client = try S3Client(config: config, region: expectedRegion)
        prefix = config.prefix.isEmpty ? "" : config.prefix + "/"
        partSize = config.partSize
        self.expectedRegion = expectedRegion
        self.allowedRegions = allowedRegions
    }

    public var location: String { "s3://\(client.bucket)/\(prefix)" }

    func objectKey(_ key: String) -> String { prefix + key }

    public func prepareForWriting() async throws {
        let response = try await client.send("GET", key: nil, query: [("location", "")], operation: "GetBucketLocation")
        try client.check(response, "GetBucketLocation", key: nil)
        let reported = Self.region(fromLocationConstraint: S3XML.first("LocationConstraint", in: response.text) ?? "")
        guard let ours = allowedRegions[reported] else {
            let allowed = allowedRegions.sorted { $0.key < $1.key }.map { "\($0.value) (\($0.key))" }.joined(separator: ", ")
            throw S3Error.residency(bucket: client.bucket, reported: reported, detail: "backup.allowed_regions allows only \(allowed)")
        }
        guard reported == expectedRegion else {
            throw S3Error.residency(
                bucket: client.bucket, reported: reported,
                detail: "that is \(ours), but backup.repository_region says the repository is in \(expectedRegion); correct repository_region")
        }
    }

    /// GetBucketLocation's answer: empty means us-east-1, and `EU` is eu-west-1's legacy name.
    static func region(fromLocationConstraint text: String) -> String {
        switch text {
        case "": "us-east-1"
        case "EU": "eu-west-1"
        default: text
        }
    }

    public func read(_ key: String) async throws -> Data? {
        let response = try await client.send("GET", key: objectKey(key), timeout: .seconds(120), operation: "GetObject")
        if response.status == 404 { return nil }
        try client.check(response, "GetObject", key: objectKey(key))
        return Data(response.body)
    }

    public func write(_ key: String, _ data: Data) async throws {
        let response = try await client.send(
            "PUT", key: objectKey(key), headers: client.encryptionHeaders, body: Array(data), timeout: .seconds(120), operation: "PutObject")
        try client.check(response, "PutObject", key: objectKey(key))
    }

    /// PutObject with `If-None-Match: *`: S3 answers 412 when the key exists. A retried
    /// request whose first try was stored meets its own object and reads as taken; the
    /// caller compares content, so that is no loss.
    public func create(_ key: String, _ data: Data) async throws -> Bool {
        let response = try await client.send(
            "PUT", key: objectKey(key), headers: [("If-None-Match", "*")] + client.encryptionHeaders, body: Array(data), timeout: .seconds(120),
            operation: "PutObject")
        if response.status == 412 { return false }
        try client.check(response, "PutObject", key: objectKey(key))
        return true
    }

    public func exists(_ key: String) async throws -> Bool {
        let response = try await client.send("HEAD", key: objectKey(key), operation: "HeadObject")
        if response.status == 404 { return false }
        try client.check(response, "HeadObject", key: objectKey(key))
        return true
    }

    public func children(of prefix: String) async throws -> (objects: [String], prefixes: [String]) {
        let (objects, prefixes) = try await list(objectKey(prefix), delimited: true)
        let cut = objectKey(prefix).count
        return (objects.map { String($0.dropFirst(cut)) }, prefixes.map { String($0.dropFirst(cut).dropLast()) })
    }

    public func keys(under prefix: String) async throws -> [String] {
        try await list(objectKey(prefix), delimited: false).objects.map { String($0.dropFirst(self.prefix.count)) }
    }

    /// ListObjectsV2, every page.
    func list(_ prefix: String, delimited: Bool) async throws -> (objects: [String], prefixes: [String]) {
        var objects: [String] = [], prefixes: [String] = []
        var token: String?
        repeat {
            var query: [(String, String)] = [("list-type", "2"), ("prefix", prefix)]
            if delimited { query.append(("delimiter", "/")) }
            if let token { query.append(("continuation-token", token)) }
            let response = try await client.send("GET", key: nil, query: query, operation: "ListObjectsV2")
            try client.check(response, "ListObjectsV2", key: prefix)
            objects += S3XML.blocks("Contents", in: response.text).compactMap { S3XML.first("Key", in: $0) }
            prefixes += S3XML.blocks("CommonPrefixes", in: response.text).compactMap { S3XML.first("Prefix", in: $0) }
            token = S3XML.first("IsTruncated", in: response.text) == "true" ? S3XML.first("NextContinuationToken", in: response.text) : nil
        } while token != nil
        return (objects.sorted(), prefixes.sorted())
    }

    public func delete(_ key: String) async throws {
        let response = try await client.send("DELETE", key: objectKey(key), operation: "DeleteObject")
        try client.check(response, "DeleteObject", key: objectKey(key), accept: [200, 204, 404])
    }

    public func upload(_ key: String) async throws -> any ObjectUpload {
        S3Upload(client: client, key: objectKey(key), partSize: partSize)
    }

    /// Ranged GETs of one part size each, the next one travelling while `consume` takes
    /// the current: memory stays at two parts whatever the object's size.
    public func stream(_ key: String, into consume: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> (size: UInt64, sha256: String)? {
        let head = try await client.send("HEAD", key: objectKey(key), operation: "HeadObject")
        if head.status == 404 { return nil }
        try client.check(head, "HeadObject", key: objectKey(key))
        guard let size = head.headers["content-length"].flatMap(UInt64.init) else {
            throw S3Error.failed(operation: "HeadObject", target: client.target(objectKey(key)), status: head.status, code: "", message: "no Content-Length")
        }
        var digest = FileDigest()
        var offset: UInt64 = 0
        var next = size > 0 ? part(of: key, at: 0, size: size) : nil
        while let current = next {
            let body = try await current.value
            offset += UInt64(body.count)
            next = offset < size ? part(of: key, at: offset, size: size) : nil
            body.withUnsafeBytes { digest.update($0) }
            do {
                try await DirectoryStore.io { try body.withUnsafeBytes { try consume($0) } }
            } catch {
                next?.cancel()
                throw error
            }
        }
        return (size, digest.finish())
    }

    /// One ranged GET from `offset`, checked to hold exactly the bytes asked for.
    private func part(of key: String, at offset: UInt64, size: UInt64) -> Task<[UInt8], any Error> {
        Task { [client, partSize] in
            let last = min(offset + UInt64(partSize), size) - 1
            let target = objectKey(key)
            let response = try await client.send("GET", key: target, headers: [("range", "bytes=\(offset)-\(last)")], timeout: .seconds(300), operation: "GetObject")
            try client.check(response, "GetObject", key: target, accept: [206])
            guard response.body.count == Int(last - offset + 1) else {
                throw S3Error.failed(
                    operation: "GetObject", target: client.target(target), status: response.status, code: "",
                    message: "asked for bytes \(offset)-\(last), received \(response.body.count) bytes")
            }
            return response.body
        }
    }

    public func localPath(_ key: String) -> String? { nil }

    /// ListMultipartUploads under the prefix, every page of it.
    public func abandonedUploads(olderThan age: Duration) async throws -> [AbandonedUpload] {
        let cutoff = Date().addingTimeInterval(-Double(age.components.seconds))
        var found: [AbandonedUpload] = []
        var marker: (key: String, id: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", prefix)]
            if let marker { query += [("key-marker", marker.key), ("upload-id-marker", marker.id)] }
            let response = try await client.send("GET", key: nil, query: query, operation: "ListMultipartUploads")
            try client.check(response, "ListMultipartUploads", key: prefix)
            for upload in S3XML.blocks("Upload", in: response.text) {
                guard let key = S3XML.first("Key", in: upload), let id = S3XML.first("UploadId", in: upload),
                    let started = S3XML.first("Initiated", in: upload).flatMap(Self.parseTime), started < cutoff
                else { continue }
                found.append(AbandonedUpload(key: key, uploadID: id, started: started))
            }
            let truncated = S3XML.first("IsTruncated", in: response.text) == "true"
            // A page that does not move the markers on would loop forever: stop there.
            if truncated, let key = S3XML.first("NextKeyMarker", in: response.text), let id = S3XML.first("NextUploadIdMarker", in: response.text),
                key != marker?.key || id != marker?.id
            {
                marker = (key, id)
            } else {
                marker = nil
            }
        } while marker != nil
        return found
    }

    public func abort(_ upload: AbandonedUpload) async throws {
        guard let id = upload.uploadID else { return }
        let response = try await client.send("DELETE", key: upload.key, query: [("uploadId", id)], operation: "AbortMultipartUpload")
        // 204 is S3's answer; 404 (NoSuchUpload): finished or aborted meanwhile.
        try client.check(response, "AbortMultipartUpload", key: upload.key, accept: [200, 204, 404])
    }

    static func parseTime(_ text: String) -> Date? {
        UTCTime.parse(text)
    }
}
