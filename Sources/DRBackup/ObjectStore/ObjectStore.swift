import Foundation

/// Where a backup repository's bytes live: a local directory or an S3 bucket. Keys are
/// `/`-separated paths relative to the repository's root (`CLUSTER/ID/manifest.json`); every
/// write is all-or-nothing, so a reader sees an object whole or not at all.
public protocol ObjectStore: Sendable {
    /// The repository as an operator writes it: a directory or `s3://BUCKET/PREFIX`.
    var location: String { get }
    /// Before the first write of a session: the repository exists, and for a bucket, that it
    /// is where data residency allows (the provider's own answer, not the config's claim).
    func prepareForWriting() async throws
    /// A small object's content; nil when there is none.
    func read(_ key: String) async throws -> Data?
    /// Stores a small object atomically and durably.
    func write(_ key: String, _ data: Data) async throws
    /// Stores a small object atomically and durably only if the key is free: false, with
    /// the object there untouched, when it is not. Of two writers racing, exactly one wins.
    func create(_ key: String, _ data: Data) async throws -> Bool
    func exists(_ key: String) async throws -> Bool
    /// One level under `prefix` (which ends in `/`): object names and sub-prefix names,
    /// both without `prefix`, sorted.
    func children(of prefix: String) async throws -> (objects: [String], prefixes: [String])
    /// Every key under `prefix`, recursively, sorted.
    func keys(under prefix: String) async throws -> [String]
    /// Removes an object; absent is not an error.
    func delete(_ key: String) async throws
    /// A streamed upload that becomes visible at `finish()` only.
    func upload(_ key: String) async throws -> any ObjectUpload
    /// Hands an object's bytes, in order, to `consume` — on a thread outside Swift's
    /// cooperative pool, so `consume` may block (a pipe into `tar`) — hashing them on the
    /// way; nil when the object does not exist. Memory stays at one chunk (a bucket's part).
    func stream(_ key: String, into consume: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> (size: UInt64, sha256: String)?
    /// The object's own file when the store is a directory (restores read it in place).
    func localPath(_ key: String) -> String?
    /// Uploads that were started more than `age` ago and never finished or aborted (a
    /// killed process): a bucket keeps their parts, and bills them.
    func abandonedUploads(olderThan age: Duration) async throws -> [AbandonedUpload]
    /// Discards an abandoned upload's parts; one already gone is not an error.
    func abort(_ upload: AbandonedUpload) async throws
}

extension ObjectStore {
    /// Streams an object into a new local file at `path` (0600), hashing it on the way;
    /// nil when the object does not exist (and no file is left behind on failure).
    public func download(_ key: String, to path: String, progress: ProgressMeter?) async throws -> (size: UInt64, sha256: String)? {
        let sink = try StreamSink(path: path, progress: progress)
        do {
            guard let streamed = try await stream(key, into: { try sink.write($0) }) else {
                sink.discard()
                try? FileManager.default.removeItem(atPath: path)
                return nil
            }
            let written = try sink.close()
            guard written.size == streamed.size else { throw BackupError.io(path: path, detail: "wrote \(written.size) of \(streamed.size) bytes") }
            return written
        } catch {
            sink.discard()
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }
}

/// An upload nobody will finish: a multipart upload in a bucket, or a `.partial` file.
public struct AbandonedUpload: Sendable, Equatable {
    public var key: String
    /// The multipart upload's ID; nil for a directory's `.partial` file.
    public var uploadID: String?
    public var started: Date
}

/// An object being written. `write` is called from one dedicated thread (the reader of a
/// program's output) and may block it while earlier parts are still travelling.
public protocol ObjectUpload: AnyObject, Sendable {
    func write(_ chunk: UnsafeRawBufferPointer) throws
    /// Makes the object durable and visible, whole.
    func finish() async throws
    /// Discards everything written; nothing of it is left visible.
    func abort() async
}
