import DRSystem
import Foundation

/// A repository in a local directory (or a mounted volume). Files are written through a
/// temporary name, fsynced and renamed; everything belongs to the owner of the root, since
/// the database server (archive_command) and root (backups) both write here.
public struct DirectoryStore: ObjectStore {
    public let root: String

    public init(root: String) { self.root = root }

    public var location: String { root }

    func path(_ key: String) -> String { "\(root)/\(key)" }

    public func prepareForWriting() async throws {
        guard FileManager.default.fileExists(atPath: root) else {
            throw BackupError.io(path: root, detail: "the backup repository does not exist (create it, owned by the database server's user)")
        }
    }

    public func read(_ key: String) async throws -> Data? { try await Self.io { FileManager.default.contents(atPath: path(key)) } }

    public func write(_ key: String, _ data: Data) async throws {
        try await Self.io { try writeNow(key, data) }
    }

    func writeNow(_ key: String, _ data: Data) throws {
        let target = path(key)
        try ensureDirectory((target as NSString).deletingLastPathComponent)
        try AtomicFile.write(data, to: target)
        adoptOwnership(target)
    }

    public func create(_ key: String, _ data: Data) async throws -> Bool {
        try await Self.io {
            let target = path(key)
            try ensureDirectory((target as NSString).deletingLastPathComponent)
            guard try AtomicFile.create(data, at: target) else { return false }
            adoptOwnership(target)
            return true
        }
    }

    public func exists(_ key: String) async throws -> Bool { try await Self.io { FileManager.default.fileExists(atPath: path(key)) } }

    public func children(of prefix: String) async throws -> (objects: [String], prefixes: [String]) {
        try await Self.io { childrenNow(of: prefix) }
    }

    func childrenNow(of prefix: String) -> (objects: [String], prefixes: [String]) {
        let directory = path(prefix)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        var objects: [String] = [], prefixes: [String] = []
        for name in names {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: "\(directory)/\(name)", isDirectory: &isDirectory)
            if isDirectory.boolValue { prefixes.append(name) } else { objects.append(name) }
        }
        return (objects, prefixes)
    }

    public func keys(under prefix: String) async throws -> [String] {
        try await Self.io { keysNow(under: prefix) }
    }

    func keysNow(under prefix: String) -> [String] {
        let directory = path(prefix)
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let item = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: "\(directory)/\(item)", isDirectory: &isDirectory)
            if !isDirectory.boolValue { found.append(prefix + item) }
        }
        return found.sorted()
    }

    public func delete(_ key: String) async throws {
        try await Self.io { try deleteNow(key) }
    }

    func deleteNow(_ key: String) throws {
        let target = path(key)
        guard FileManager.default.fileExists(atPath: target) else { return }
        try FileManager.default.removeItem(atPath: target)
        // Empty directories left behind are removed, as a bucket has no directories.
        var parent = (target as NSString).deletingLastPathComponent
        while parent.hasPrefix(root + "/"), (try? FileManager.default.contentsOfDirectory(atPath: parent))?.isEmpty == true {
            try? FileManager.default.removeItem(atPath: parent)
            parent = (parent as NSString).deletingLastPathComponent
        }
    }

    public func upload(_ key: String) async throws -> any ObjectUpload {
        let target = path(key)
        try ensureDirectory((target as NSString).deletingLastPathComponent)
        return try FileUpload(path: target, store: self)
    }

    public func stream(_ key: String, into consume: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> (size: UInt64, sha256: String)? {
        let source = path(key)
        return try await Self.io {
            guard let handle = FileHandle(forReadingAtPath: source) else {
                guard FileManager.default.fileExists(atPath: source) else { return nil }
                throw BackupError.io(path: source, detail: "cannot open")
            }
            defer { try? handle.close() }
            var digest = FileDigest()
            var size: UInt64 = 0
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                digest.update(chunk)
                size += UInt64(chunk.count)
                try chunk.withUnsafeBytes { try consume($0) }
            }
            return (size, digest.finish())
        }
    }

    public func localPath(_ key: String) -> String? { path(key) }

    /// A killed upload leaves a `.partial` file.
    public func abandonedUploads(olderThan age: Duration) async throws -> [AbandonedUpload] {
        let cutoff = Date().addingTimeInterval(-Double(age.components.seconds))
        return try await Self.io {
            keysNow(under: "").filter { $0.hasSuffix(".partial") }.compactMap { key in
                guard let modified = (try? FileManager.default.attributesOfItem(atPath: path(key)))?[.modificationDate] as? Date,
                    modified < cutoff
                else { return nil }
                return AbandonedUpload(key: key, uploadID: nil, started: modified)
            }
        }
    }

    public func abort(_ upload: AbandonedUpload) async throws {
        let file = path(upload.key)
        try await Self.io {
            do { try FileManager.default.removeItem(atPath: file) } catch CocoaError.fileNoSuchFile {}
        }
    }

    /// File-system calls run on a Dispatch thread: a hung disk or NFS mount must not stall
    /// Swift's cooperative pool.
    static func io<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Everything in the repository belongs to the owner of its root directory.
    func adoptOwnership(_ path: String) {
        guard geteuid() == 0, let attributes = try? FileManager.default.attributesOfItem(atPath: root),
            let uid = attributes[.ownerAccountID] as? NSNumber, let gid = attributes[.groupOwnerAccountID] as? NSNumber
        else { return }
        chown(path, uid.uint32Value, gid.uint32Value)
    }

    /// Creates the repository's directories if needed (owned like its root, 0700).
    func ensureDirectory(_ path: String) throws {
        var created: [String] = []
        var current = path
        while !FileManager.default.fileExists(atPath: current), current.hasPrefix(root), current != root {
            created.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        created.forEach(adoptOwnership)
    }
}

/// A streamed file in a directory repository: written under `.partial`, fsynced, renamed.
final class FileUpload: ObjectUpload, @unchecked Sendable {
    private let sink: StreamSink
    private let path: String
    private let store: DirectoryStore

    init(path: String, store: DirectoryStore) throws {
        self.path = path
        self.store = store
        sink = try StreamSink(path: path + ".partial", progress: nil)
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws { try sink.write(chunk) }

    func finish() async throws {
        _ = try sink.close()
        try AtomicFile.commit(path + ".partial", to: path)
        store.adoptOwnership(path)
    }

    func abort() async {
        sink.discard()
        try? FileManager.default.removeItem(atPath: path + ".partial")
    }
}
