import Foundation

/// Everything the agents keep under the cluster's prefix, read in one transaction (one etcd
/// revision) and decoded one record at a time: a record this version cannot read — a newer
/// agent's during a rolling upgrade, a stray write — is skipped and reported, and never
/// makes the rest unreadable (safety invariant 5; docs/design.md, "etcd key schema").
public struct CoordinationSnapshot: Sendable, Equatable {
    /// The etcd revision every value was read at.
    public var revision: Int64
    public var leader: LeaderRecord?
    public var members: [MemberRecord]
    public var progress: PrimaryProgress?
    /// The `sync` key (synchronous mode).
    public var synchronous: SynchronousRecord?
    /// The `failsafe` key: who the leader must hear from without etcd.
    public var failsafe: FailsafeRecord?
    public var paused: Bool
    public var failoverIntent: FailoverIntent?
    public var switchover: SwitchoverIntent?
    /// Nodes an operator asked to rejoin (`drctl rejoin NODE`).
    public var rejoinRequested: Set<String>
    /// Nodes an operator asked to build anew as standbys (`drctl reinit NODE`).
    public var reinitRequested: Set<String> = []
    /// Nodes a confirmed failover drill asked to crash (`drctl drill run --confirm`).
    public var drillCrashRequested: Set<String> = []
    /// Nodes an operator asked to restart in place (`drctl restart NODE`).
    public var restartRequested: [String: RestartRequest] = [:]
    /// The records that could not be read, with why; everything else was used.
    public var skipped: [SkippedRecord]

    public init(
        revision: Int64, leader: LeaderRecord? = nil, members: [MemberRecord] = [], progress: PrimaryProgress? = nil,
        paused: Bool = false, failoverIntent: FailoverIntent? = nil, switchover: SwitchoverIntent? = nil,
        rejoinRequested: Set<String> = [], skipped: [SkippedRecord] = []
    ) {
        self.revision = revision
        self.leader = leader
        self.members = members
        self.progress = progress
        self.paused = paused
        self.failoverIntent = failoverIntent
        self.switchover = switchover
        self.rejoinRequested = rejoinRequested
        self.skipped = skipped
    }

    /// One key as etcd returned it.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Data
        public var createRevision: Int64
        public var lease: Int64
        /// The revision of the key's last write (0: unknown).
        public var modRevision: Int64

        public init(key: String, value: Data, createRevision: Int64 = 0, lease: Int64 = 0, modRevision: Int64 = 0) {
            self.key = key
            self.value = value
            self.createRevision = createRevision
            self.lease = lease
            self.modRevision = modRevision
        }
    }

    /// The keys below `prefix` (which ends in `/`), relative to it.
    public enum Key {
        public static let leader = "leader"
        public static let members = "members/"
        /// The primary's last published progress (`PrimaryProgress`).
        public static let progress = "progress"
        /// Where earlier agents kept the progress: still written beside `progress`, and read
        /// when that is missing or was written before it (an older agent leads during a
        /// rolling upgrade), so no stale progress makes an RPO gate look better than it is.
        /// Drop once no older agent can run.
        public static let legacyProgress = "primary"
        public static let synchronous = "sync"
        public static let failsafe = "failsafe"
        public static let intents = "intents/"
        public static let pause = "intents/pause"
        public static let failover = "intents/failover"
        public static let switchover = "intents/switchover"
        public static let rejoin = "intents/rejoin/"
        public static let reinit = "intents/reinit/"
        /// A failover drill on a real cluster asks the primary's agent to crash its database.
        public static let drillCrash = "intents/drill-crash/"
        /// `drctl restart NODE`: the value is `restart` or `pending-only`.
        public static let restart = "intents/restart/"
    }

    /// Decodes `entries` (the cluster's keys under `prefix`) record by record. Keys it does
    /// not know are ignored (a newer version may add some); values it cannot read are
    /// skipped with the reason.
    public static func decode(prefix: String, revision: Int64, entries: [Entry]) -> CoordinationSnapshot {
        var snapshot = CoordinationSnapshot(revision: revision)
        var progressWritten: Int64 = 0
        var legacyProgress: (record: PrimaryProgress, written: Int64)?
        let decoder = JSONDecoder()
        for entry in entries where entry.key.hasPrefix(prefix) {
            let key = String(entry.key.dropFirst(prefix.count))
            func skip(_ reason: String) { snapshot.skipped.append(SkippedRecord(key: entry.key, reason: reason)) }
            func read<T: Decodable>(_ type: T.Type) -> T? {
                do {
                    return try decoder.decode(type, from: entry.value)
                } catch {
                    skip("not a \(type) this version can read: \(DecodingProblem.describe(error))")
                    return nil
                }
            }
            switch key {
            case Key.leader:
                let node = String(decoding: entry.value, as: UTF8.self)
                if node.isEmpty || entry.createRevision <= 0 {
                    skip("the leader key holds no node name")
                } else {
                    snapshot.leader = LeaderRecord(node: node, term: entry.createRevision, lease: entry.lease)
                }
            case Key.progress:
                snapshot.progress = read(PrimaryProgress.self)
                progressWritten = entry.modRevision
            case Key.legacyProgress:
                legacyProgress = read(PrimaryProgress.self).map { ($0, entry.modRevision) }
            case Key.synchronous:
                snapshot.synchronous = read(SynchronousRecord.self)
            case Key.failsafe:
                snapshot.failsafe = read(FailsafeRecord.self)
            case Key.pause:
                snapshot.paused = true
            case Key.failover:
                snapshot.failoverIntent = read(FailoverIntent.self)
            case Key.switchover:
                snapshot.switchover = read(SwitchoverIntent.self)
            case _ where key.hasPrefix(Key.rejoin):
                snapshot.rejoinRequested.insert(String(key.dropFirst(Key.rejoin.count)))
            case _ where key.hasPrefix(Key.reinit):
                snapshot.reinitRequested.insert(String(key.dropFirst(Key.reinit.count)))
            case _ where key.hasPrefix(Key.drillCrash):
                snapshot.drillCrashRequested.insert(String(key.dropFirst(Key.drillCrash.count)))
            case _ where key.hasPrefix(Key.restart):
                guard let request = RestartRequest(value: entry.value) else { skip("expected `restart` or `pending-only`"); continue }
                snapshot.restartRequested[String(key.dropFirst(Key.restart.count))] = request
            case _ where key.hasPrefix(Key.members):
                if let member = read(MemberRecord.self) { snapshot.members.append(member) }
            default:
                continue
            }
        }
        // The older key is read only when it was written after the newer one (an agent of
        // the previous version leads now) or the newer one is missing: never a stale record
        // over a fresh one, whatever either's content.
        if let legacy = legacyProgress, snapshot.progress == nil || legacy.written > progressWritten {
            snapshot.progress = legacy.record
        }
        return snapshot
    }
}

/// A record in etcd this agent could not read, and why: shown by `drctl status`, counted
/// by the agent's metrics, and otherwise ignored.
public struct SkippedRecord: Sendable, Equatable, Hashable {
    public var key: String
    public var reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "etcd record \(key) skipped: \(reason)" }
}

/// One short line for a JSON decoding error (Foundation's own descriptions run to paragraphs).
enum DecodingProblem {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, _): return "field \"\(key.stringValue)\" is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "field \"\(path)\": \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
