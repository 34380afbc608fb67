import DRCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import DRAgent

/// The hook runner with real `/bin/sh`: arguments and environment, one at a time, the time
/// limit (the whole process group), a superseded hook not run, every run recorded.
@Suite struct RoleHooksTests {
    final class Recorder: Sendable {
        let runs = Mutex<[HookRun]>([])
        func record(_ run: HookRun) { runs.withLock { $0.append(run) } }
        var all: [HookRun] { runs.withLock { $0 } }
    }

    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "drctl-hooks-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Queues the hooks, then waits for all of them behind an `on_stop` (`true`); returns
    /// every run recorded, that one last.
    static func run(_ hooks: HooksConfig, _ asks: [(HooksConfig.Event, String, Int64?, Bool)]) async -> [HookRun] {
        let recorder = Recorder()
        let runner = RoleHooks(node: "pg2", log: Logger(label: "test"), record: { recorder.record($0) })
        for (event, role, term, current) in asks {
            runner.ask(event, role: role, term: term, hooks: hooks, cluster: "shop", stillCurrent: { current })
        }
        await runner.askAndWait(.onStop, role: "replica", term: nil, hooks: HooksConfig(onStop: "true"), cluster: "shop")
        return recorder.all
    }

    @Test func aHookGetsPatronisArgumentsAndTheEnvironment() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hooks = HooksConfig(onRoleChange: #"echo "$1 $2 $3 $DRCTL_EVENT $DRCTL_ROLE $DRCTL_NODE $DRCTL_CLUSTER $DRCTL_TERM" > "# + dir + "/out; echo done")
        let runs = await Self.run(hooks, [(.onRoleChange, "primary", 42, true)])
        #expect(try String(contentsOfFile: dir + "/out", encoding: .utf8) == "on_role_change primary shop on_role_change primary pg2 shop 42\n")
        let run = try #require(runs.first { $0.event == .onRoleChange })
        #expect(run.outcome == .succeeded && run.exitStatus == 0 && run.output == "done\n" && run.term == 42 && run.node == "pg2")
    }

    @Test func hooksRunOneAtATimeInTheOrderAsked() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hooks = HooksConfig(onRoleChange: #"echo "start $2" >> "# + dir + #"/log; sleep 0.2; echo "end $2" >> "# + dir + "/log")
        _ = await Self.run(hooks, [(.onRoleChange, "fenced", 1, true), (.onRoleChange, "replica", 2, true)])
        #expect(try String(contentsOfFile: dir + "/log", encoding: .utf8) == "start fenced\nend fenced\nstart replica\nend replica\n")
    }

    @Test func aHookForARoleThatNoLongerHoldsIsNotRunButRecorded() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hooks = HooksConfig(onRoleChange: #"echo "$2" >> "# + dir + "/log")
        let runs = await Self.run(hooks, [(.onRoleChange, "primary", 7, false), (.onRoleChange, "fenced", 8, true)])
        #expect(try String(contentsOfFile: dir + "/log", encoding: .utf8) == "fenced\n", "the VIP is never added for a lost leadership")
        #expect(runs.filter { $0.event == .onRoleChange }.map(\.outcome) == [.superseded, .succeeded])
    }

    @Test func aHookPastItsLimitIsKilledWithEverythingItStarted() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hooks = HooksConfig(onRoleChange: #"sleep 60 & echo $! > "# + dir + "/child; sleep 60", timeout: .milliseconds(300))
        let runs = await Self.run(hooks, [(.onRoleChange, "primary", 3, true)])
        let run = try #require(runs.first { $0.event == .onRoleChange })
        #expect(run.outcome == .timedOut && run.exitStatus == 128 + SIGKILL)
        let child = try #require(Int32(try String(contentsOfFile: dir + "/child", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0..<50 where !gone {
            gone = kill(child, 0) != 0 || (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8))?.contains(") Z") == true
            if !gone { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(gone, "the hook's background child was killed with its group")
    }

    @Test func aFailingHookIsRecordedWithItsStatusAndOutput() async throws {
        let runs = await Self.run(HooksConfig(onRoleChange: "echo 'no pgbouncer here' >&2; exit 3"), [(.onRoleChange, "replica", nil, true)])
        let run = try #require(runs.first { $0.event == .onRoleChange })
        #expect(run.outcome == .failed && run.exitStatus == 3 && run.output.contains("no pgbouncer here"))
    }

    @Test func noCommandConfiguredRunsNothing() async {
        let runs = await Self.run(HooksConfig(), [(.onRoleChange, "primary", 1, true), (.onStart, "primary", 1, true)])
        #expect(runs.allSatisfy { $0.event == .onStop })
    }
}
