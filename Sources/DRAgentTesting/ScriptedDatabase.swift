import DRAgent
import DRCore
import Foundation

/// One node's server in `ScriptedServers`, as its agent drives it.
public struct ScriptedDatabase: DatabaseController {
    let servers: ScriptedServers
    public let node: String

    public enum Failure: Error, CustomStringConvertible {
        case refused(node: String, call: String, why: String)
        public var description: String {
            switch self {
            case let .refused(node, call, why): "\(call) on \(node) failed: \(why)"
            }
        }
    }

    public func observe() async -> ProbeResult {
        servers.read { all in
            guard let me = all[node], me.running else { return .unreachable(reason: "connection refused") }
            guard !me.frozen else { return .failed(reason: "the server answered nothing within the time-out") }
            if !me.inRecovery {
                let standbys = all.values.filter { $0.running && $0.inRecovery && $0.upstream == node && servers.streams(from: node, to: $0.name) }
                var state = PrimaryState(
                    serverVersion: 150_000, timeline: me.timeline, currentLSN: LSN(me.lsn),
                    replication: standbys.map {
                        ReplicationConnection(
                            applicationName: $0.name, clientAddress: nil, state: "streaming",
                            syncState: me.synchronousStandbys.contains($0.name) || me.synchronousStandbys == ["*"] ? "sync" : "async",
                            sentLSN: LSN($0.lsn), writeLSN: LSN($0.lsn), flushLSN: LSN($0.lsn), replayLSN: LSN($0.lsn),
                            writeLag: nil, flushLag: nil, replayLag: nil)
                    },
                    slots: me.slots.map { slot in
                        ReplicationSlot(
                            name: slot, type: "physical", active: standbys.contains { ReplicationSlots.name(of: $0.name) == slot }, restartLSN: nil,
                            walStatus: "reserved")
                    })
                state.synchronousStandbyNames = SynchronousStandbyNames.format(me.synchronousStandbys)
                state.forcedPromotion = me.forcedPromotion ? "promoted by hand" : nil
                state.activity.pendingRestart = me.pendingRestart
                return .primary(state)
            }
            let upstream = me.upstream.flatMap { all[$0] }
            let streaming = !me.pastFork && (upstream.map { $0.running && !$0.frozen && servers.streams(from: $0.name, to: node) } ?? false)
            let address = me.upstream.flatMap { servers.addresses[$0] }
            var state = StandbyState(
                serverVersion: 150_000, timeline: me.timeline, receiveLSN: LSN(me.lsn), replayLSN: LSN(me.lsn),
                secondsSinceLastReplay: 0, walReceiverStatus: streaming ? "streaming" : nil,
                upstreamHost: address?.host, upstreamPort: address?.port, replayPaused: false, slots: [])
            state.primaryConninfo = address.map { "host=\($0.host) port=\($0.port)" }
            state.activity.pendingRestart = me.pendingRestart
            return .standby(state)
        }
    }

    public func postmasterRunning() -> Bool? {
        let me = servers[node]
        return me.postmasterUnknown ? nil : me.running
    }

    public func waitForExit(within limit: Duration) async -> Bool { false }

    /// Takes `promotionTakes` on the manual clock; the server becomes writable at its end —
    /// also when the agent stops waiting (it is cancelled, it exits): once signalled,
    /// PostgreSQL goes on promoting whoever watches.
    public func promote(slow: @escaping @Sendable (Duration) async -> Void) async throws {
        let due = try servers.act(node, "promote") { me -> AgentInstant? in
            guard me.running else { throw Failure.refused(node: node, call: "promote", why: "the server is not running") }
            guard me.inRecovery else { return nil }
            let due = me.promotesAt ?? servers.clock.now + me.promotionTakes
            me.promotesAt = due
            return due
        }
        guard let due else { return }
        try await servers.clock.sleep(for: due - servers.clock.now)
        servers.finishPromotion(node)
    }

    public func fence(within limit: Duration) async throws -> String? {
        let takes = servers[node].fenceTakes
        if takes > .zero { try await servers.clock.sleep(for: takes) }
        try servers.act(node, "fence") { me in
            me.standbySignal = true
            guard !me.fenceFails || !me.running else { throw Failure.refused(node: node, call: "fence", why: "pg_ctl stop did not stop it") }
            me.running = false
        }
        return nil
    }

    public func restartGuarded() -> Bool { servers[node].standbySignal }

    public func guardRestart() throws {
        servers.change(node) { me in
            if me.running, !me.inRecovery { me.standbySignal = true }
        }
    }

    public func restart() async throws {
        try servers.act(node, "restart") { me in
            guard !me.startFails, !me.dataLost else { throw Failure.refused(node: node, call: "pg_ctl start", why: "the server exited during start-up") }
            me.running = true
            me.frozen = false
            me.inRecovery = me.standbySignal
        }
    }

    public func restartInPlace(asPrimary: Bool) async throws {
        let takes = servers[node].restartTakes
        if takes > .zero {
            servers.change(node) { $0.running = false }
            try await servers.clock.sleep(for: takes)
        }
        try servers.act(node, asPrimary ? "restart in place as primary" : "restart in place") { me in
            guard !me.startFails, !me.dataLost else { throw Failure.refused(node: node, call: "pg_ctl start", why: "the server exited during start-up") }
            me.running = true
            me.frozen = false
            me.pendingRestart = false
            me.inRecovery = !asPrimary
            me.standbySignal = true
        }
    }

    public func startAsStandby() async throws {
        try servers.act(node, "start as standby") { me in
            me.standbySignal = true
            guard !me.running else { return }
            guard !me.startFails, !me.dataLost else { throw Failure.refused(node: node, call: "pg_ctl start", why: "the server exited during start-up") }
            me.running = true
            me.frozen = false
            me.inRecovery = true
        }
    }

    public func setSynchronousStandbys(_ standbys: [String]) async throws {
        try servers.act(node, "synchronous \(standbys)") { me in
            guard me.running, !me.frozen else { throw Failure.refused(node: node, call: "ALTER SYSTEM", why: "no connection") }
            me.synchronousStandbys = standbys
        }
    }

    public func clearForcedPromotion() async throws { servers.act(node, "clear forced promotion") { _ in } }

    public func follow(_ leader: NodeConfig) async throws {
        try servers.act(node, "follow \(leader.name)") { me in
            guard me.running, me.inRecovery else { throw Failure.refused(node: node, call: "follow", why: "not a running standby") }
            me.upstream = leader.name
        }
    }

    /// Rewinds to the leader's history and starts as its standby.
    public func rejoin(_ leader: NodeConfig) async throws {
        let source = servers[leader.name]
        try servers.act(node, "rejoin \(leader.name)") { me in
            guard source.running, !source.inRecovery else { throw Failure.refused(node: node, call: "rejoin", why: "\(leader.name) is not a running primary") }
            guard !me.rewindFails else {
                me.running = false
                throw Failure.refused(node: node, call: "rejoin", why: "pg_rewind could not connect to \(leader.name)")
            }
            me.pastFork = false
            me.running = true
            me.inRecovery = true
            me.standbySignal = true
            me.upstream = leader.name
            me.timeline = source.timeline
            me.lsn = min(me.lsn, source.lsn)
        }
    }

    public func dataDirectoryEmpty() -> Bool { servers[node].dataLost }

    public func crashForDrill() async throws {
        servers.act(node, "crash for drill") { $0.running = false }
    }

    public func keepSlots(create: [String], drop: [String]) async throws {
        servers.act(node, "slots +\(create) -\(drop)") { server in
            server.slots = (Set(server.slots).union(create).subtracting(drop)).sorted()
        }
    }

    public func archiveRecoveryUnderway() -> Bool { false }

    /// A new standby of the leader, whatever was there before.
    public func cloneStandby(
        _ leader: NodeConfig, from sources: [ReplicaConfig.Source], progress: @escaping @Sendable (CloneProgress) -> Void
    ) async throws -> StandbyClone.Outcome {
        let source = servers[leader.name]
        progress(CloneProgress(source: sources.first ?? .primary, phase: .copying, bytes: 0, expected: source.lsn, elapsed: .zero))
        return try servers.act(node, "clone from \(leader.name)") { me in
            guard source.running, !source.inRecovery, !me.cloneFails else {
                throw Failure.refused(node: node, call: "clone", why: "\(leader.name) is not a running primary, or no source works")
            }
            me = ScriptedServers.Server(name: node, inRecovery: true, standbySignal: true, timeline: source.timeline, lsn: source.lsn, upstream: leader.name)
            return StandbyClone.Outcome(source: sources.first ?? .primary)
        }
    }

    public func stopForHandover(within limit: Duration) async throws -> LSN {
        try servers.act(node, "stop for handover") { me in
            guard me.running, !me.frozen else { throw Failure.refused(node: node, call: "clean stop", why: "the server does not answer") }
            guard !me.cleanStopFails else { throw Failure.refused(node: node, call: "clean stop", why: "the shutdown did not finish in time") }
            me.running = false
            me.standbySignal = true
            return LSN(me.lsn)
        }
    }
}
