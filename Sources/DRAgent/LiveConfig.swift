import DRCore
import DRCrypto
import Foundation
import Synchronization

/// The configuration a running agent works with, replaced whole by a reload (SIGHUP,
/// `drctl reload`): the scheduler, the notifications, preflight, the status page and the
/// HTTP API read it at each use; each node's loop takes it at the start of its next loop
/// (see `NodeAgent.reload`), never in the middle of one.
public final class LiveConfig: Sendable {
    private let state: Mutex<(config: ClusterConfig, hash: String)>

    /// - Parameter hash: what the member records publish (see `LiveConfig.hash(ofFile:)`).
    public init(_ config: ClusterConfig, hash: String = "") {
        state = Mutex((config, hash))
    }

    public var value: ClusterConfig { state.withLock { $0.config } }
    /// The running configuration file's hash.
    public var hash: String { state.withLock { $0.hash } }

    func replace(_ config: ClusterConfig, hash: String) { state.withLock { $0 = (config, hash) } }

    /// The first 12 hex digits of the SHA-256 of the file's bytes: equal files, equal hashes,
    /// so hosts running different files show up in `drctl status` and preflight. Empty when
    /// the file cannot be read.
    public static func hash(ofFile path: String) -> String {
        guard let bytes = FileManager.default.contents(atPath: path) else { return "" }
        return String(Hex.encode(SHA256.hash(bytes)).prefix(12))
    }
}
