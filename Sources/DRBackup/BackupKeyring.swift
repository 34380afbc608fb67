import DRCore
import DRCrypto
import DRSystem
import Foundation

/// One backup encryption key: 32 bytes, known by its id — the first 16 hex digits of the
/// SHA-256 of a fixed label and the key, so objects and manifests can say which key sealed
/// them without saying anything usable about it. Its description is the id: a key printed
/// by mistake prints no secret.
public struct BackupKey: Sendable, CustomStringConvertible {
    public let id: String
    let bytes: [UInt8]

    public var description: String { "backup key \(id)" }

    init(bytes: [UInt8]) {
        self.bytes = bytes
        id = String(Hex.encode(SHA256.hash(Array("drctl backup key id\n".utf8) + bytes)).prefix(16))
    }

    /// Reads a key from a file (which nobody but its owner may read) or the environment,
    /// written as 64 hex digits.
    static func load(_ source: SecretSource, what: String) throws -> BackupKey {
        if case .file(let path) = source {
            var info = stat()
            guard stat(path, &info) == 0 else { throw BackupError.refused("\(what): cannot read \(path): \(String(cString: strerror(errno)))") }
            if info.st_mode & 0o077 != 0 {
                throw BackupError.refused(
                    "\(what): \(path) can be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); `chmod 600 \(path)`, owned by the user that runs drctl and PostgreSQL")
            }
        }
        let text: String
        do { text = try SecretReader.read(source, what: what) } catch { throw BackupError.refused("\(error)") }
        guard text.count == 64, let bytes = Self.hexBytes(text) else {
            throw BackupError.refused("\(what) (\(source)) is not 64 hex digits (32 bytes); make one with `openssl rand -hex 32`")
        }
        return BackupKey(bytes: bytes)
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var high: UInt8?
        for character in text {
            guard let digit = character.hexDigitValue else { return nil }
            if let first = high {
                bytes.append(first << 4 | UInt8(digit))
                high = nil
            } else {
                high = UInt8(digit)
            }
        }
        return bytes
    }
}

/// The key new objects are sealed with and every key that may have sealed older ones.
public struct BackupKeyring: Sendable {
    public let current: BackupKey
    public let previous: [BackupKey]

    public init(current: BackupKey, previous: [BackupKey] = []) {
        self.current = current
        self.previous = previous
    }

    /// The keys the config names; nil when backups are not encrypted.
    public static func load(_ config: BackupEncryption?) throws -> BackupKeyring? {
        guard let config else { return nil }
        return BackupKeyring(
            current: try BackupKey.load(config.key, what: "backup.encryption key"),
            previous: try config.previousKeys.map { try BackupKey.load($0, what: "backup.encryption previous key") })
    }

    /// The key with `id`, or an error that says which key the object needs and which the
    /// config has (a configuration problem, not damage).
    func key(id: String, for what: String) throws -> BackupKey {
        if let key = ([current] + previous).first(where: { $0.id == id }) { return key }
        throw BackupError.keyMissing(keyID: id, what: what, configured: ([current] + previous).map(\.id))
    }
}
