import DRCore
import Testing

@Suite struct HealthEndpointsTests {
    static func snapshot(
        _ state: String, holdsLease: Bool = false, streaming: Bool = true, lag: UInt64? = 0, noloadbalance: Bool = false,
        tickedAt: Double = 10
    ) -> NodeSnapshot {
        NodeSnapshot(
            node: "n", region: "r", state: state, leader: "a", term: 7, holdsLease: holdsLease, timeline: 1, lsn: LSN(100),
            streaming: streaming, lagBytes: lag, lagSeconds: 0, noloadbalance: noloadbalance, paused: false, hold: nil,
            rule: "leader-renews", tickedAt: .seconds(tickedAt))
    }

    static func code(_ path: String, _ snapshot: NodeSnapshot?, query: [String: String] = [:], now: Double = 11) -> Int? {
        HealthEndpoints.status(path: path, query: query, snapshot: snapshot, now: .seconds(now), staleAfter: .seconds(5), defaultLagLimit: 1 << 20)
    }

    @Test func thePrimaryAnswersOnlyTheWriteEndpointsWhileItHoldsTheLease() {
        let primary = Self.snapshot("primary", holdsLease: true)
        #expect(["/primary", "/read-write", "/leader", "/read-only", "/health", "/status", "/primary/"].map { Self.code($0, primary) } == Array(repeating: 200, count: 7))
        #expect(Self.code("/replica", primary) == 503)
        #expect(Self.code("/primary", Self.snapshot("primary", holdsLease: false)) == 503, "lease deadline passed: not a primary for load balancers")
        #expect(Self.code("/primary", Self.snapshot("fenced")) == 503)
    }

    @Test func aReplicaMustStreamWithinTheLagLimit() {
        #expect(Self.code("/replica", Self.snapshot("standby")) == 200)
        #expect(Self.code("/read-only", Self.snapshot("standby")) == 200)
        #expect(Self.code("/primary", Self.snapshot("standby")) == 503)
        #expect(Self.code("/replica", Self.snapshot("standby", streaming: false)) == 503)
        #expect(Self.code("/replica", Self.snapshot("standby", lag: 2 << 20)) == 503, "beyond the default 1MB here")
        #expect(Self.code("/replica", Self.snapshot("standby", lag: 2 << 20), query: ["lag": "16MB"]) == 200, "?lag= overrides")
        #expect(Self.code("/replica", Self.snapshot("standby", lag: nil)) == 503, "unknown lag is not within any limit")
        #expect(Self.code("/replica", Self.snapshot("standby", noloadbalance: true)) == 503)
    }

    @Test func aStalledLoopOrUnknownPathAnswersAccordingly() {
        #expect(Self.code("/health", Self.snapshot("standby"), now: 30) == 503, "no loop for 20s: stalled")
        #expect(Self.code("/status", nil) == 503, "before the first loop")
        #expect(Self.code("/health", Self.snapshot("down")) == 503)
        #expect(Self.code("/status", Self.snapshot("down")) == 200)
        #expect(Self.code("/nope", Self.snapshot("standby")) == nil)
    }

    /// Patroni's other endpoints: synchronous and asynchronous replicas, liveness (the loop)
    /// and readiness (serving), tag filters, and the methods HAProxy sends.
    @Test func patronisOtherEndpoints() {
        var sync = Self.snapshot("standby")
        sync.synchronous = true
        var async = Self.snapshot("standby")
        async.synchronous = false
        #expect(Self.code("/sync", sync) == 200 && Self.code("/synchronous", sync) == 200 && Self.code("/async", sync) == 503)
        #expect(Self.code("/sync", async) == 503 && Self.code("/asynchronous", async) == 200)
        #expect(Self.code("/async", Self.snapshot("standby")) == 200, "asynchronous mode: every replica is async")
        let down = Self.snapshot("down")
        #expect(Self.code("/liveness", down) == 200 && Self.code("/readiness", down) == 503 && Self.code("/health", down) == 503)
        #expect(Self.code("/liveness", down, now: 30) == 503, "a stalled loop is not alive")
        #expect(Self.code("/readiness", Self.snapshot("primary", holdsLease: true)) == 200 && Self.code("/master", Self.snapshot("primary", holdsLease: true)) == 200)
        #expect(Self.code("/readiness", Self.snapshot("standby", noloadbalance: true)) == 200, "ready, though out of the load-balanced pool")
        var tagged = Self.snapshot("standby")
        tagged.tags = ["nofailover"]
        #expect(Self.code("/replica", tagged, query: ["tag_nofailover": "true"]) == 200)
        #expect(Self.code("/replica", tagged, query: ["tag_nofailover": "false"]) == 503)
        #expect(Self.code("/replica", Self.snapshot("standby"), query: ["tag_nofailover": "true"]) == 503)
        #expect(HealthEndpoints.methods == ["GET", "HEAD", "OPTIONS"])
    }

    @Test func lagSizesParseAsPostgreSQLWritesThem() {
        #expect(HealthEndpoints.parseSize("1048576") == 1_048_576)
        #expect(HealthEndpoints.parseSize("16MB") == 16 << 20)
        #expect(HealthEndpoints.parseSize("512kB") == 512 << 10)
        #expect(HealthEndpoints.parseSize("1GB") == 1 << 30)
        #expect(HealthEndpoints.parseSize("lots") == nil)
    }
}
