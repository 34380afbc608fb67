import DRCore
import Foundation

/// The WAL archive in the repository (`REPOSITORY/CLUSTER/wal/`, a directory or a bucket prefix), written by `drctl
/// wal-push` from `archive_command` and read by `drctl wal-fetch` from `restore_command`.
/// Each segment is stored atomically with the SHA-256 of its bytes beside it (`NAME.sha256`),
/// compressed with zstd (`NAME.zst`) unless `backup.compression` is none, and sealed with
/// the backup key (`NAME.zst.enc`, see `SealedFormat`) when `backup.encryption` is set; the
/// checksum is of the segment itself. Pushing identical content again succeeds (PostgreSQL
/// retries), different content under the same name is refused (two timelines must never
/// overwrite each other's WAL). Readers take every form, so archives written before
/// compression or encryption was turned on stay readable.
public struct WALArchive: Sendable {
    let repository: BackupRepository
    /// The archive's prefix in the repository's store.
    let prefix: String
    let compression: BackupCompression

    public init(repository: BackupRepository, compression: BackupCompression = BackupCompression()) {
        self.repository = repository
        self.compression = compression
        prefix = "\(repository.cluster)/wal/"
    }

    static let compressedSuffix = ".zst"
    static let sealedSuffix = ".enc"

    /// The suffix this archive writes, then every other a reader may meet, in the order a
    /// read tries them: the writer's own form first, so a fetch costs one request.
    var forms: [String] {
        let written = (compression.method == .zstd ? Self.compressedSuffix : "") + (repository.keyring != nil ? Self.sealedSuffix : "")
        return [written] + ["", Self.compressedSuffix, Self.sealedSuffix, Self.compressedSuffix + Self.sealedSuffix].filter { $0 != written }
    }

    /// Where the archive is, for messages.
    public var location: String { "\(repository.location)/wal" }

    public enum PushOutcome: Sendable, Equatable { case stored, alreadyArchived }

    /// Stores a WAL file under its name, never over another's. The checksum file is
    /// created first (a conditional create: it claims the name), then the segment; both
    /// creates refuse to replace what is there, so two primaries pushing one name cannot
    /// overwrite each other, and the same bytes again (PostgreSQL retries) succeed.
    public func push(path: String, name: String) async throws -> PushOutcome {
        guard Self.isValidName(name) else { throw BackupError.refused("wal-push: \"\(name)\" is not a WAL file name") }
        let data = try await DirectoryStore.io { try Self.map(path) }
        let store = repository.objects
        // The checksum and the compression (each about 10 ms for a segment) on two threads:
        // archive_command's time is the primary's pg_wal backlog.
        async let storedForm = DirectoryStore.io { [compression, keyring = repository.keyring] in
            var stored = compression.method == .zstd ? try Zstd.compress(data, level: compression.walLevel) : data
            if let key = keyring?.current { stored = try StreamSealer.seal(stored, key: key) }
            return stored
        }
        let sum = try await DirectoryStore.io {
            var digest = FileDigest()
            digest.update(data)
            return digest.finish()
        }
        try await store.prepareForWriting()
        if try await !store.create(prefix + name + ".sha256", Data("\(sum)  \(name)\n".utf8)) {
            let claimed = try await store.read(prefix + name + ".sha256").flatMap { String(decoding: $0, as: UTF8.self).split(separator: " ").first }
            guard claimed.map(String.init) == sum else { throw refusal(name) }
            // Stored already, in either form (a retry, or an archive from before compression).
            if let existing = try await content(of: name) {
                var old = FileDigest()
                old.update(existing)
                guard old.finish() == sum else { throw refusal(name) }
                return .alreadyArchived
            }
        }
        if try await store.create(prefix + name + forms[0], try await storedForm) { return .stored }
        guard let existing = try await content(of: name) else { throw BackupError.io(path: "\(location)/\(name)", detail: "exists and cannot be read") }
        var old = FileDigest()
        old.update(existing)
        guard old.finish() == sum else { throw refusal(name) }
        return .alreadyArchived
    }

    /// A segment's bytes, mapped rather than read: the checksum and the compression read
    /// the page cache directly, with no 16 MiB copy into freshly zeroed memory.
    static func map(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError.io(path: path, detail: "cannot read: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw BackupError.io(path: path, detail: "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        guard size > 0 else { return Data() }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw BackupError.io(path: path, detail: "cannot map: \(String(cString: strerror(errno)))")
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }

    /// The file's original bytes, from whichever form is stored; nil when neither is.
    func content(of name: String) async throws -> Data? {
        for form in forms {
            guard var data = try await repository.objects.read(prefix + name + form) else { continue }
            let what = "\(location)/\(name)\(form)"
            if form.hasSuffix(Self.sealedSuffix) {
                guard let keyring = repository.keyring else { throw BackupError.keyMissing(keyID: Self.keyID(of: data), what: what, configured: []) }
                data = try StreamOpener.open(data, keyring: keyring, what: what)
            }
            return form.hasPrefix(Self.compressedSuffix) ? try Zstd.decompress(data, what: what) : data
        }
        return nil
    }

    /// The key id in a sealed object's header, for an error.
    private static func keyID(of data: Data) -> String {
        SealedFormat.isSealed(data) ? String(decoding: data[data.startIndex + 8..<data.startIndex + 24], as: UTF8.self) : "(unknown)"
    }

    /// What is wrong with one archived file, if anything: no checksum, or bytes that do
    /// not match it. Errors reaching the repository are thrown, not reported as damage.
    public func damage(of name: String) async throws -> String? {
        let store = repository.objects
        let data: Data
        do {
            guard let found = try await content(of: name) else { return "\(name) vanished while being verified" }
            data = found
        } catch let error as BackupError {
            // A key the config lacks says nothing about the file.
            if case .keyMissing = error { throw error }
            return "\(name): \(error)"
        }
        guard let expected = try await store.read(prefix + name + ".sha256").flatMap({ String(decoding: $0, as: UTF8.self).split(separator: " ").first }) else {
            return "\(name) has no checksum"
        }
        var digest = FileDigest()
        digest.update(data)
        let found = digest.finish()
        return found == String(expected) ? nil : "\(name) has SHA-256 \(found), its checksum file says \(expected)"
    }

    /// The holes a restore from any of `bases` would stop at (see `ArchiveGaps`).
    public func gaps(from bases: [BackupManifest]) async throws -> [ArchiveGaps.Gap] {
        let starts = bases.filter { $0.kind == .base && $0.damage == nil }.compactMap { base in base.startLSN.map { (timeline: base.timeline ?? 1, lsn: $0) } }
        return ArchiveGaps.find(starts: starts, archived: try await names())
    }

    private func refusal(_ name: String) -> BackupError {
        .refused("wal-push: \(name) is already archived with different content; refusing to overwrite it (two primaries on one timeline?)")
    }

    /// Copies `name` to `path` after checking its checksum; false when it is not archived
    /// (restore_command must then fail so that recovery ends there). A file without its
    /// checksum is refused: nothing proves it is what was pushed.
    public func fetch(name: String, to path: String) async throws -> Bool {
        let store = repository.objects
        guard let data = try await content(of: name) else { return false }
        guard let expected = try await store.read(prefix + name + ".sha256").flatMap({ String(decoding: $0, as: UTF8.self).split(separator: " ").first }) else {
            throw BackupError.io(path: "\(location)/\(name).sha256", detail: "missing: \(name) has no checksum, so it cannot be verified; do not use it")
        }
        var digest = FileDigest()
        digest.update(data)
        let found = digest.finish()
        guard found == String(expected) else {
            throw BackupError.checksumMismatch(id: "wal", file: "\(location)/\(name)", expected: String(expected), found: found)
        }
        try AtomicFile.write(data, to: path)
        return true
    }

    /// The archived files' names (segments, partial segments, backup labels, timeline
    /// histories), without their checksum files, in name order.
    public func names() async throws -> [String] {
        let stored = try await repository.objects.keys(under: prefix).map { String($0.dropFirst(prefix.count)) }.filter { !$0.hasSuffix(".sha256") }
        return Set(
            stored.map { key in
                var name = Substring(key)
                for suffix in [Self.sealedSuffix, Self.compressedSuffix] where name.hasSuffix(suffix) { name = name.dropLast(suffix.count) }
                return String(name)
            }
        ).sorted()
    }

    /// Removes archived files (each with its checksum), oldest name first: a prune cut
    /// short leaves the archive without a hole, only shorter at its old end.
    public func expire(_ names: [String]) async throws {
        for name in names.sorted() {
            guard Self.isValidName(name) else { throw BackupError.refused("wal expiry: \"\(name)\" is not a WAL file name") }
            for form in forms { try await repository.objects.delete(prefix + name + form) }
            try await repository.objects.delete(prefix + name + ".sha256")
        }
    }

    /// Timeline history files and partial/backup-label files are names too.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && name.allSatisfy { $0.isHexDigit || $0 == "." || $0.isLetter }
    }
}
