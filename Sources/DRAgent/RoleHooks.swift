import DRCore
import DRSystem
import Foundation
import Logging

/// Runs a node's hooks (`hooks:`) one at a time, in the order asked, on a task of their
/// own: a slow hook never delays the loop that fences, promotes or renews. Before each run
/// it asks the agent whether the role (and, for `primary`, the term) it is for still holds;
/// if not, it is recorded as superseded and the newer change's hook runs instead — a
/// VIP is never added by a hook for a leadership already lost. Every run is logged and
/// recorded in etcd's history (`drctl history`).
public final class RoleHooks: Sendable {
    /// One hook to run: its event, the role and term it is for, the command and its limit
    /// as configured when it was asked for, and how to tell whether it still applies.
    struct Request: Sendable {
        var event: HooksConfig.Event
        var role: String
        var term: Int64?
        var command: String
        var timeout: Duration
        var cluster: String
        var stillCurrent: @Sendable () async -> Bool
        var done: (@Sendable () -> Void)? = nil
    }

    let node: String
    let log: Logger
    let record: @Sendable (HookRun) async -> Void
    private let requests: AsyncStream<Request>.Continuation
    private let worker: Task<Void, Never>

    /// - Parameter record: where each run is recorded (etcd's history); failures are the
    ///   recorder's to log.
    public init(node: String, log: Logger, record: @escaping @Sendable (HookRun) async -> Void = { _ in }) {
        self.node = node
        self.log = log
        self.record = record
        let (stream, continuation) = AsyncStream.makeStream(of: Request.self)
        requests = continuation
        worker = Task { [node, log, record] in
            for await request in stream { await Self.perform(request, node: node, log: log, record: record) }
        }
    }

    deinit { requests.finish() }

    /// Queues `event`'s hook from `hooks` (nothing when none is configured).
    func ask(
        _ event: HooksConfig.Event, role: String, term: Int64?, hooks: HooksConfig, cluster: String,
        stillCurrent: @escaping @Sendable () async -> Bool = { true }
    ) {
        guard let command = hooks.command(for: event) else { return }
        requests.yield(Request(event: event, role: role, term: term, command: command, timeout: hooks.timeout, cluster: cluster, stillCurrent: stillCurrent))
    }

    /// Queues `event`'s hook and returns when it and every hook before it have run: the
    /// agent's stop waits for `on_stop` (bounded by its time limit).
    func askAndWait(_ event: HooksConfig.Event, role: String, term: Int64?, hooks: HooksConfig, cluster: String) async {
        guard let command = hooks.command(for: event) else { return }
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            requests.yield(
                Request(
                    event: event, role: role, term: term, command: command, timeout: hooks.timeout, cluster: cluster, stillCurrent: { true },
                    done: { finished.resume() }))
        }
    }

    static func perform(_ request: Request, node: String, log: Logger, record: @Sendable (HookRun) async -> Void) async {
        defer { request.done?() }
        let startedAt = Date()
        var run = HookRun(
            node: node, event: request.event, role: request.role, term: request.term, startedAtMillis: Int64(startedAt.timeIntervalSince1970 * 1000),
            seconds: 0, outcome: .superseded, exitStatus: nil, output: "")
        var metadata: Logger.Metadata = ["hook": "\(request.event.rawValue)", "role": "\(request.role)", "term": "\(request.term.map(String.init) ?? "none")"]
        guard await request.stillCurrent() else {
            log.notice("hook not run: the role or term it was for has changed since; the newer change's hook runs instead", metadata: metadata)
            await record(run)
            return
        }
        let environment = [
            "DRCTL_EVENT": request.event.rawValue, "DRCTL_ROLE": request.role, "DRCTL_NODE": node, "DRCTL_CLUSTER": request.cluster,
            "DRCTL_TERM": request.term.map(String.init) ?? "",
        ]
        do {
            let result = try await BoundedCommand.run(
                ["/bin/sh", "-c", request.command, "drctl-hook", request.event.rawValue, request.role, request.cluster], environment: environment,
                timeout: request.timeout)
            run.exitStatus = result.status
            run.output = result.output
            run.outcome = result.timedOut ? .timedOut : result.status == 0 ? .succeeded : .failed
        } catch {
            run.outcome = .notStarted
            run.output = "\(error)"
        }
        run.seconds = Date().timeIntervalSince(startedAt)
        metadata["outcome"] = "\(run.outcome.rawValue)"
        metadata["exit_status"] = "\(run.exitStatus.map(String.init) ?? "none")"
        metadata["seconds"] = "\(String(format: "%.2f", run.seconds))"
        if run.outcome == .succeeded {
            log.info("hook ran", metadata: metadata)
        } else {
            metadata["output"] = "\(run.output.trimmingCharacters(in: .whitespacesAndNewlines))"
            log.error("hook \(run.outcome == .timedOut ? "killed at its time limit (hooks.timeout)" : "failed")", metadata: metadata)
        }
        await record(run)
    }
}
