import DRCoordination
import DRCore
import Foundation

/// An etcd in memory, with the semantics the agents rely on: one revision counter that
/// every write advances, a key's create revision (the leader key's is the term), leases
/// that expire on the manual clock `ttl` after their last renewal and take their keys with
/// them, and compare-and-swap on the leader key. Each agent talks to it through its own
/// client (`client(_:)`), so faults can hit one agent, some or all:
///
/// - `down`: no quorum, every request fails;
/// - `cutOff`: these clients' requests never arrive (a partition);
/// - `answersLost`: these clients' requests are carried out but the answers never come
///   back (a half-partition: the renewal happened, the agent cannot know);
/// - `fail`: some kinds of request time out for everyone, the others work;
/// - `electLeader`: the raft leader is lost and the members elect another; requests wait
///   and fail as a real member's do meanwhile.
public final class InMemoryEtcd: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public var value: Data
        public var createRevision: Int64
        public var lease: Int64
        public var modRevision: Int64 = 0
    }

    /// The requests served so far (that reached the store), by client and kind: what a
    /// cluster costs etcd, counted as etcd would.
    public func requestsServed(by client: String) -> [Operation: Int] { lock.withLock { served[client] ?? [:] } }
    /// The writes that rode in a client's reads (`snapshotWriting`), by the kind of request
    /// each would otherwise have been.
    public func writesCarried(by client: String) -> [Operation: Int] { lock.withLock { carriedServed[client] ?? [:] } }

    struct Lease {
        var ttl: Duration
        var expiresAt: AgentInstant
    }

    public let prefix: String
    let clock: ManualClock
    private let lock = NSLock()
    private var keys: [String: Entry] = [:]
    private var leases: [Int64: Lease] = [:]
    private var revisionCounter: Int64 = 1
    private var nextLease: Int64 = 0x7000
    private var faults = Faults()
    private var evidence: [FailoverEvidence] = []
    private var episodes: [FailsafeEpisode] = []
    private var served: [String: [Operation: Int]] = [:]
    private var carriedServed: [String: [Operation: Int]] = [:]

    struct Faults {
        var down = false
        var cutOff: Set<String> = []
        var answersLost: Set<String> = []
        var slowReads: [String: Duration] = [:]
        var failing: Set<Operation> = []
        var election: Election?
    }

    /// A leader election under way: until `end` no request is served.
    struct Election {
        var end: AgentInstant
        var hold: Duration
    }

    /// The kinds of request, for failing some and not others (etcd's lease subsystem
    /// stalled while reads still work, a slow leader election that times out writes).
    public enum Operation: Sendable, Hashable {
        case grantLease, keepAlive, revoke, acquireLeadership, readLeader, releaseLeadership, snapshot, snapshotWriting
        case publishMember, publishProgress, recordSynchronous, publishFailsafe, writeIntent, appendHistory

        /// Whether etcd commits it through raft (a lease keep-alive and a read do not).
        public var isWrite: Bool {
            switch self {
            case .keepAlive, .readLeader, .snapshot: false
            case .grantLease, .revoke, .acquireLeadership, .releaseLeadership, .publishMember, .publishProgress, .snapshotWriting, .recordSynchronous,
                .publishFailsafe, .writeIntent, .appendHistory:
                true
            }
        }
    }

    public init(clock: ManualClock, prefix: String = "/drctl/test/") {
        self.clock = clock
        self.prefix = prefix
    }

    /// The coordinator one agent (or the CLI) uses.
    public func client(_ name: String) -> InMemoryCoordinator { InMemoryCoordinator(etcd: self, client: name) }

    // MARK: faults

    /// No quorum: every request fails. Coming back refreshes every lease to its full TTL,
    /// as etcd's lessor does when a new leader is elected (no lease lapses for an outage).
    public var down: Bool {
        get { lock.withLock { faults.down } }
        set {
            lock.withLock {
                if !faults.down, newValue { expire() }
                if faults.down, !newValue {
                    for (id, lease) in leases { leases[id]?.expiresAt = clock.now + lease.ttl }
                }
                faults.down = newValue
            }
        }
    }

    public func cutOff(_ clients: Set<String>) { lock.withLock { faults.cutOff = clients } }
    public func loseAnswers(to clients: Set<String>) { lock.withLock { faults.answersLost = clients } }
    /// Reads of these clients take this long before they are answered or fail: a cut link's
    /// time-outs, one per endpoint.
    public func slowReads(_ delays: [String: Duration]) { lock.withLock { faults.slowReads = delays } }

    func readDelay(_ client: String) async {
        if let delay = lock.withLock({ faults.slowReads[client] }) { try? await clock.sleep(for: delay) }
    }
    /// These kinds of request fail for everyone (etcd times them out); the rest work.
    public func fail(_ operations: Set<Operation>) { lock.withLock { faults.failing = operations } }

    /// The raft leader is lost now and a new one is elected after `duration`. Meanwhile a
    /// member holds each request up to `hold` (about its election time-out) or until the
    /// election ends, then answers 503 "etcdserver: leader changed" — as a real member
    /// does, measured in the lab's 3-member cluster. Leases are not lost: the new leader
    /// gives every lease its full TTL again, as etcd's lessor does on promotion.
    public func electLeader(for duration: Duration, hold: Duration = .milliseconds(450)) {
        lock.withLock { faults.election = Election(end: clock.now + duration, hold: hold) }
    }

    /// A request that meets an election: waits as the member would, then fails.
    private func meetElection(_ operation: Operation) async throws {
        let arrival = clock.now
        guard let election = lock.withLock({ faults.election }), arrival < election.end else { return }
        try? await clock.sleep(until: min(election.end, arrival + election.hold))
        lock.withLock { expire() }  // ends the election if it is over
        throw CoordinationError.server(endpoint: "memory", path: "\(operation)", status: 503, message: "etcdserver: leader changed")
    }

    // MARK: inspection and direct writes (what an operator or another version would do)

    /// The value under `key` (relative to the prefix), after expiring what is due.
    public func entry(_ key: String) -> Entry? {
        lock.withLock {
            expire(); return keys[prefix + key]
        }
    }
    public var revision: Int64 { lock.withLock { revisionCounter } }
    public var leader: LeaderRecord? { entry(CoordinationSnapshot.Key.leader).map { LeaderRecord(node: String(decoding: $0.value, as: UTF8.self), term: $0.createRevision, lease: $0.lease) } }
    public var history: [FailoverEvidence] { lock.withLock { evidence } }
    /// The failsafe episodes leaders recorded.
    public var failsafeEpisodes: [FailsafeEpisode] { lock.withLock { episodes } }

    /// Writes raw bytes under `key` (relative to the prefix): a newer agent's record, a stray write.
    public func put(_ key: String, _ value: Data) { lock.withLock { write(prefix + key, value, lease: 0) } }

    // MARK: the requests

    /// Runs one request for `client` as etcd would: refused when it cannot arrive, carried
    /// out atomically otherwise, and its answer lost when the fault says so.
    /// A read that carries writes fails wherever a read or one of `carried` would.
    func request<T>(_ client: String, _ operation: Operation, carrying carried: Set<Operation> = [], _ body: (inout Store) throws -> T) async throws -> T {
        if !lock.withLock({ faults.down || faults.cutOff.contains(client) }) { try await meetElection(operation) }
        let answer: Result<T, any Error> = lock.withLock {
            if faults.down { return .failure(CoordinationError.unavailable(["memory etcd: no quorum"])) }
            if faults.failing.contains(operation) || (!carried.isEmpty && !faults.failing.isDisjoint(with: carried.union([.snapshot]))) {
                return .failure(CoordinationError.server(endpoint: "memory", path: "\(operation)", status: 503, message: "etcdserver: request timed out"))
            }
            if faults.cutOff.contains(client) { return .failure(CoordinationError.unavailable(["memory etcd: \(client) is cut off"])) }
            expire()
            served[client, default: [:]][operation, default: 0] += 1
            for kind in carried { carriedServed[client, default: [:]][kind, default: 0] += 1 }
            var store = Store(etcd: self)
            let result = Result { try body(&store) }
            if faults.answersLost.contains(client) {
                return .failure(CoordinationError.unavailable(["memory etcd: the answer to \(client) was lost"]))
            }
            return result
        }
        return try answer.get()
    }

    /// The store as one request sees it (the lock is held).
    struct Store {
        let etcd: InMemoryEtcd
        var prefix: String { etcd.prefix }
        var revision: Int64 { etcd.revisionCounter }
        func get(_ key: String) -> Entry? { etcd.keys[prefix + key] }
        func write(_ key: String, _ value: Data, lease: Int64 = 0) throws {
            guard lease == 0 || etcd.leases[lease] != nil else {
                throw CoordinationError.server(endpoint: "memory", path: key, status: 400, message: "etcdserver: requested lease not found")
            }
            etcd.write(prefix + key, value, lease: lease)
        }
        func delete(_ key: String) { etcd.delete(prefix + key) }
        func grant(_ ttl: Duration) -> Int64 {
            etcd.nextLease += 1
            etcd.leases[etcd.nextLease] = Lease(ttl: ttl, expiresAt: etcd.clock.now + ttl)
            return etcd.nextLease
        }
        func renew(_ lease: Int64) -> Duration? {
            guard var held = etcd.leases[lease] else { return nil }
            held.expiresAt = etcd.clock.now + held.ttl
            etcd.leases[lease] = held
            return held.ttl
        }
        func revoke(_ lease: Int64) { etcd.dropLease(lease) }
        func appendHistory(_ record: FailoverEvidence) { etcd.evidence.append(record) }
        func appendEpisode(_ episode: FailsafeEpisode) { etcd.episodes.append(episode) }
        func entries() -> [CoordinationSnapshot.Entry] {
            etcd.keys.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map {
                CoordinationSnapshot.Entry(
                    key: $0.key, value: $0.value.value, createRevision: $0.value.createRevision, lease: $0.value.lease, modRevision: $0.value.modRevision)
            }
        }
    }

    // Called with the lock held.
    private func write(_ key: String, _ value: Data, lease: Int64) {
        revisionCounter += 1
        let created = keys[key]?.createRevision ?? revisionCounter
        keys[key] = Entry(value: value, createRevision: created, lease: lease, modRevision: revisionCounter)
    }

    private func delete(_ key: String) {
        guard keys.removeValue(forKey: key) != nil else { return }
        revisionCounter += 1
    }

    private func dropLease(_ lease: Int64) {
        guard leases.removeValue(forKey: lease) != nil else { return }
        for (key, entry) in keys where entry.lease == lease { delete(key) }
    }

    /// Leases past their deadline go, with their keys (etcd's lessor does this on its own).
    private func expire() {
        // Only a leader expires leases; the next one grants them their full TTL again.
        if let election = faults.election {
            guard clock.now >= election.end else { return }
            for (id, lease) in leases { leases[id]?.expiresAt = election.end + lease.ttl }
            faults.election = nil
        }
        let now = clock.now
        for (id, lease) in leases where lease.expiresAt <= now { dropLease(id) }
    }
}
