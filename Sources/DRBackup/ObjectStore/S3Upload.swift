import DRHTTP
import Dispatch
import Foundation

/// A streamed upload to S3: bytes gather into parts of `partSize`; full parts travel as a
/// multipart upload, two at a time, while the next one fills, so the producer (pg_dump)
/// is rarely held up and memory stays at a few parts whatever the object's size. An
/// object smaller than one part goes up in a single PUT. Until `finish()` completes the
/// upload nothing is visible under the key; `abort()` discards the parts.
final class S3Upload: ObjectUpload, @unchecked Sendable {
    let client: S3Client
    let key: String
    let partSize: Int
    static let partsInFlight = 2

    private let lock = NSLock()
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var nextPart = 1
    private var etags: [Int: String] = [:]
    private var failure: (any Error)?
    private let slots = DispatchSemaphore(value: S3Upload.partsInFlight)
    private let travelling = DispatchGroup()

    init(client: S3Client, key: String, partSize: Int) {
        self.client = client
        self.key = key
        self.partSize = partSize
        buffer.reserveCapacity(partSize)
    }

    /// Called on the producer's dedicated thread, which it may block.
    func write(_ chunk: UnsafeRawBufferPointer) throws {
        if let failure = lock.withLock({ failure }) { throw failure }
        buffer.append(contentsOf: chunk)
        while buffer.count >= partSize {
            let part = Array(buffer[..<partSize])
            buffer.removeFirst(partSize)
            try send(part)
        }
    }

    private func send(_ part: [UInt8]) throws {
        if uploadID == nil {
            uploadID = try Self.wait { [client, key] in try await Self.create(client: client, key: key) }
        }
        guard let uploadID else { return }
        slots.wait()
        travelling.enter()
        let number = nextPart
        nextPart += 1
        Task { [client, key] in
            defer {
                slots.signal()
                travelling.leave()
            }
            do {
                let etag = try await Self.uploadPart(client: client, key: key, uploadID: uploadID, number: number, bytes: part)
                lock.withLock { etags[number] = etag }
            } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
        }
    }

    func finish() async throws {
        guard let uploadID else {
            let response = try await client.send("PUT", key: key, headers: Self.objectHeaders(client), body: buffer, timeout: .seconds(300), operation: "PutObject")
            try client.check(response, "PutObject", key: key)
            return
        }
        if !buffer.isEmpty {
            let number = nextPart
            let etag = try await Self.uploadPart(client: client, key: key, uploadID: uploadID, number: number, bytes: buffer)
            lock.withLock { etags[number] = etag }
            buffer = []
        }
        await withCheckedContinuation { continuation in travelling.notify(queue: .global()) { continuation.resume() } }
        if let failure = lock.withLock({ failure }) { throw failure }
        let parts = lock.withLock { etags.sorted { $0.key < $1.key } }
        let body =
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + parts.map { "<Part><PartNumber>\($0.key)</PartNumber><ETag>\(S3XML.escape($0.value))</ETag></Part>" }.joined()
            + "</CompleteMultipartUpload>"
        let response = try await client.send(
            "POST", key: key, query: [("uploadId", uploadID)], body: Array(body.utf8), timeout: .seconds(300), operation: "CompleteMultipartUpload")
        try client.check(response, "CompleteMultipartUpload", key: key)
        // S3 may answer 200 and still report an error in the body.
        if response.text.contains("<Error>") {
            throw S3Error.failed(
                operation: "CompleteMultipartUpload", target: client.target(key), status: response.status,
                code: S3XML.first("Code", in: response.text) ?? "", message: S3XML.first("Message", in: response.text) ?? "")
        }
    }

    func abort() async {
        buffer = []
        guard let uploadID else { return }
        await withCheckedContinuation { continuation in travelling.notify(queue: .global()) { continuation.resume() } }
        await Self.abort(client: client, key: key, uploadID: uploadID)
    }

    static func abort(client: S3Client, key: String, uploadID: String) async {
        _ = try? await client.send("DELETE", key: key, query: [("uploadId", uploadID)], operation: "AbortMultipartUpload")
    }

    static func create(client: S3Client, key: String) async throws -> String {
        let response = try await client.send("POST", key: key, query: [("uploads", "")], headers: objectHeaders(client), operation: "CreateMultipartUpload")
        try client.check(response, "CreateMultipartUpload", key: key)
        guard let id = S3XML.first("UploadId", in: response.text) else {
            throw S3Error.failed(operation: "CreateMultipartUpload", target: client.target(key), status: response.status, code: "", message: "no UploadId")
        }
        return id
    }

    /// A backup data file's encryption and storage class (parts inherit both).
    static func objectHeaders(_ client: S3Client) -> [(String, String)] {
        client.encryptionHeaders + (client.storageClass.map { [("x-amz-storage-class", $0)] } ?? [])
    }

    static func uploadPart(client: S3Client, key: String, uploadID: String, number: Int, bytes: [UInt8]) async throws -> String {
        let response = try await client.send(
            "PUT", key: key, query: [("partNumber", "\(number)"), ("uploadId", uploadID)], body: bytes, timeout: .seconds(300),
            operation: "UploadPart")
        try client.check(response, "UploadPart \(number)", key: key)
        guard let etag = response.headers["etag"] else {
            throw S3Error.failed(operation: "UploadPart \(number)", target: client.target(key), status: response.status, code: "", message: "no ETag")
        }
        return etag
    }

    /// Runs async work from the producer's dedicated thread and blocks it until done.
    static func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.set(.success(try await work())) } catch { box.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return try box.get()
    }
}

/// Hands one result from a task to a waiting thread.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, any Error>?
    func set(_ value: Result<T, any Error>) { lock.withLock { result = value } }
    func get() throws -> T { try lock.withLock { result! }.get() }
}
