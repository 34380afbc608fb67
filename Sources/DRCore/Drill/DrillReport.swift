/// What a drill run leaves behind: the timeline of its phases, the measured RTO and RPO
/// against the objectives, the validation results and the verdict. JSON and an HTML page.
public struct DrillReport: Sendable, Equatable, Codable {
    public struct Phase: Sendable, Equatable, Codable {
        public var name: String
        /// Seconds from the drill's start.
        public var start: Double
        public var end: Double

        public init(name: String, start: Double, end: Double) {
            self.name = name
            self.start = start
            self.end = end
        }
    }

    public struct ValidationResult: Sendable, Equatable, Codable {
        public var sql: String
        public var expect: String
        public var got: String?
        public var passed: Bool

        public init(sql: String, expect: String, got: String?, passed: Bool) {
            self.sql = sql
            self.expect = expect
            self.got = got
            self.passed = passed
        }
    }

    public var id: String
    public var drill: String
    public var kind: String
    public var cluster: String
    public var startedAt: String
    public var finishedAt: String
    public var rtoSeconds: Double?
    public var rpoSeconds: Double?
    /// Bytes of WAL lost, when the drill measures it (failovers).
    public var dataLostBytes: UInt64?
    public var rtoObjectiveSeconds: Double
    public var rpoObjectiveSeconds: Double
    public var phases: [Phase]
    public var validations: [ValidationResult]
    /// Why it failed; empty when it passed.
    public var failures: [String]
    public var notes: [String]
    public var passed: Bool { failures.isEmpty }

    public init(
        id: String, drill: String, kind: String, cluster: String, startedAt: String, finishedAt: String, rtoSeconds: Double?,
        rpoSeconds: Double?, dataLostBytes: UInt64?, rtoObjectiveSeconds: Double, rpoObjectiveSeconds: Double, phases: [Phase],
        validations: [ValidationResult], failures: [String], notes: [String]
    ) {
        self.id = id
        self.drill = drill
        self.kind = kind
        self.cluster = cluster
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.rtoSeconds = rtoSeconds
        self.rpoSeconds = rpoSeconds
        self.dataLostBytes = dataLostBytes
        self.rtoObjectiveSeconds = rtoObjectiveSeconds
        self.rpoObjectiveSeconds = rpoObjectiveSeconds
        self.phases = phases
        self.validations = validations
        self.failures = failures
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case id, drill, kind, cluster, phases, validations, failures, notes, passed
        case startedAt = "started_at", finishedAt = "finished_at", rtoSeconds = "rto_seconds", rpoSeconds = "rpo_seconds"
        case dataLostBytes = "data_lost_bytes", rtoObjectiveSeconds = "rto_objective_seconds", rpoObjectiveSeconds = "rpo_objective_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), drill: try c.decode(String.self, forKey: .drill), kind: try c.decode(String.self, forKey: .kind),
            cluster: try c.decode(String.self, forKey: .cluster), startedAt: try c.decode(String.self, forKey: .startedAt),
            finishedAt: try c.decode(String.self, forKey: .finishedAt), rtoSeconds: try c.decodeIfPresent(Double.self, forKey: .rtoSeconds),
            rpoSeconds: try c.decodeIfPresent(Double.self, forKey: .rpoSeconds), dataLostBytes: try c.decodeIfPresent(UInt64.self, forKey: .dataLostBytes),
            rtoObjectiveSeconds: try c.decode(Double.self, forKey: .rtoObjectiveSeconds), rpoObjectiveSeconds: try c.decode(Double.self, forKey: .rpoObjectiveSeconds),
            phases: try c.decode([Phase].self, forKey: .phases), validations: try c.decode([ValidationResult].self, forKey: .validations),
            failures: try c.decode([String].self, forKey: .failures), notes: try c.decode([String].self, forKey: .notes))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(drill, forKey: .drill); try c.encode(kind, forKey: .kind); try c.encode(cluster, forKey: .cluster)
        try c.encode(startedAt, forKey: .startedAt); try c.encode(finishedAt, forKey: .finishedAt); try c.encode(passed, forKey: .passed)
        try c.encode(rtoSeconds, forKey: .rtoSeconds); try c.encode(rpoSeconds, forKey: .rpoSeconds); try c.encode(dataLostBytes, forKey: .dataLostBytes)
        try c.encode(rtoObjectiveSeconds, forKey: .rtoObjectiveSeconds); try c.encode(rpoObjectiveSeconds, forKey: .rpoObjectiveSeconds)
        try c.encode(phases, forKey: .phases); try c.encode(validations, forKey: .validations); try c.encode(failures, forKey: .failures)
        try c.encode(notes, forKey: .notes)
    }

    /// The verdict: every validation passed and the measured RTO and RPO are known and
    /// within the objectives. Pure, so each way to fail is tested.
    public static func failures(
        rto: Double?, rpo: Double?, rtoObjective: Double, rpoObjective: Double, validations: [ValidationResult],
        errors: [String]
    ) -> [String] {
        var failures = errors
        switch rto {
        case nil: failures.append("RTO not measured")
        case let value? where value > rtoObjective: failures.append("RTO \(format(value))s exceeds the objective \(format(rtoObjective))s")
        default: break
        }
        switch rpo {
        case nil: failures.append("RPO not measured")
        case let value? where value > rpoObjective: failures.append("RPO \(format(value))s exceeds the objective \(format(rpoObjective))s")
        default: break
        }
        for result in validations where !result.passed {
            failures.append("validation failed: \(result.sql) returned \(result.got ?? "an error"), expected \(result.expect)")
        }
        return failures
    }

    static func format(_ seconds: Double) -> String {
        let rounded = (seconds * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
