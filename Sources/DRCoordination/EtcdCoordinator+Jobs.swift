import DRCore
import Foundation

/// Scheduled jobs: a lock per job (a lease-bound key created only if absent, so exactly
/// one agent runs each occurrence) and the record of the last run, which outlives agents.
extension EtcdCoordinator {
    func jobLockKey(_ job: String) -> String { prefix + "jobs/\(job)/lock" }
    func jobRecordKey(_ job: String) -> String { prefix + "jobs/\(job)/last" }

    /// Takes the job's lock for `holder` under `lease`; false when another agent holds it.
    public func tryLockJob(_ job: String, holder: String, lease: Int64) async throws -> Bool {
        let key = EtcdJSON.base64(jobLockKey(job))
        let response = try await gateway.call(
            "/v3/kv/txn",
            [
                "compare": [["key": key, "result": "EQUAL", "target": "CREATE", "create_revision": "0"]],
                "success": [["request_put": ["key": key, "value": EtcdJSON.base64(holder), "lease": String(lease)]]],
            ])
        return response["succeeded"] as? Bool == true
    }

    /// The last run of a job, as its runner recorded it.
    public func jobRecord(_ job: String) async throws -> JobRun? {
        guard let data = try await get(jobRecordKey(job)) else { return nil }
        return try? JSONDecoder().decode(JobRun.self, from: data)
    }

    public func recordJob(_ run: JobRun) async throws {
        try await put(jobRecordKey(run.job), try JSONEncoder().encode(run))
    }
}

/// One run of a scheduled job: which occurrence, who ran it, how it ended, and the
/// occurrences missed before it (reported, not silently skipped).
public struct JobRun: Sendable, Equatable, Codable {
    public var job: String
    /// The cron occurrence, minutes since the epoch (UTC).
    public var scheduledMinute: Int64
    public var node: String
    public var startedAt: String
    public var finishedAt: String?
    public var succeeded: Bool?
    public var detail: String
    public var missedMinutes: [Int64]

    public init(
        job: String, scheduledMinute: Int64, node: String, startedAt: String, finishedAt: String? = nil, succeeded: Bool? = nil,
        detail: String = "", missedMinutes: [Int64] = []
    ) {
        self.job = job
        self.scheduledMinute = scheduledMinute
        self.node = node
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.succeeded = succeeded
        self.detail = detail
        self.missedMinutes = missedMinutes
    }

    enum CodingKeys: String, CodingKey {
        case job, node, detail, succeeded
        case scheduledMinute = "scheduled_minute", startedAt = "started_at", finishedAt = "finished_at", missedMinutes = "missed_minutes"
    }
}

/// Notifications: a key per event, created only if absent, so one agent sends each.
extension EtcdCoordinator {
    /// Claims the notification `key` for a day; false when another agent claimed it first.
    public func claimNotification(_ key: String, for duration: Duration = .seconds(86_400)) async throws -> Bool {
        let lease = try await grantLease(ttl: duration)
        let name = EtcdJSON.base64(prefix + "notifications/\(key)")
        let response = try await gateway.call(
            "/v3/kv/txn",
            [
                "compare": [["key": name, "result": "EQUAL", "target": "CREATE", "create_revision": "0"]],
                "success": [["request_put": ["key": name, "value": EtcdJSON.base64("claimed"), "lease": String(lease)]]],
            ])
        let claimed = response["succeeded"] as? Bool == true
        if !claimed { try? await revoke(lease: lease) }
        return claimed
    }
}
