import DRCore
import Testing

/// `WatchdogLease`, table-driven: which lease the fencing watchdog guards, on which clock.
@Suite struct WatchdogLeaseTests {
    static let book = LeaseBookkeeping(term: 7, ttl: .seconds(5), lastConfirmedRenewalSentAt: .seconds(100))

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var book: LeaseBookkeeping?
        var state: LocalDatabase.State?
        var promoting = false
        var guarded: Bool
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "a primary's lease is guarded", book: book, state: .primary, guarded: true),
        Row(name: "a server that stopped answering may be stalled, still committing: guarded", book: book, state: .down, guarded: true),
        Row(name: "nothing observed yet (a restarted agent): guarded", book: book, state: nil, guarded: true),
        Row(name: "a standby that won the key, not promoting: read-only, not stopped", book: book, state: .standby, guarded: false),
        Row(name: "a standby whose promotion is under way or signalled: guarded", book: book, state: .standby, promoting: true, guarded: true),
        Row(name: "a fenced server is stopped already", book: book, state: .fenced, guarded: false),
        Row(name: "no lease, nothing to guard", book: nil, state: .primary, guarded: false),
    ]

    @Test(arguments: rows) func guards(_ row: Row) {
        // The agent's clock reads 130 s, the host's monotonic one 5,000 s: the renewal sent
        // 30 s ago on the agent's clock is 30 s ago on the host's too.
        let guarded = WatchdogLease.guarded(row.book, database: row.state, promotionMayTurnWritable: row.promoting, agentNow: .seconds(130), hostNow: .seconds(5000))
        #expect((guarded != nil) == row.guarded)
        if let guarded {
            #expect(guarded.lastConfirmedRenewalSentAt == .seconds(4970) && guarded.term == 7 && guarded.ttl == .seconds(5))
        }
    }
}
