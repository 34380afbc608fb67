import Yams

/// A drill file in `drills/`: what to do, where, the objectives it must meet, and the
/// queries that prove the result is usable.
public struct DrillSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// Restore the latest logical backup into a scratch instance.
        case restoreLogical = "restore-logical"
        /// Restore a base backup plus archived WAL to a restore point made for the drill.
        case restorePITR = "restore-pitr"
        /// Kill the primary (postmaster and agent) in the lab and let the agents fail over; on
        /// a real cluster (`target: cluster`, `--confirm`), the primary's agent crashes its database.
        case failover
        /// Cut the primary's region off (lab network partition) and let the agents fail over.
        case regionOutage = "region-outage"
        /// Lose every region with a database (the lab's region1 and region2) and build the
        /// primary in the cold region from backups (`drctl region activate`).
        case regionActivation = "region-activation"
        /// Switch the primary to a node of region `to` under a probe write load (and back,
        /// unless `switch_back: false`), in any cluster: planned, no fault injected.
        case switchover

        /// The kinds that inject faults into the lab.
        public var isLabFault: Bool { [.failover, .regionOutage, .regionActivation].contains(self) }
    }

    public enum Target: String, Sendable, Equatable, CaseIterable {
        /// A temporary instance on this host, removed after the drill.
        case scratch
        /// The local lab (`drctl-lab up`) the configuration describes.
        case lab
        /// The cluster the configuration describes, whatever it runs on (staging, production).
        case cluster
    }

    /// A query and the text its first column must return (`t` for true).
    public struct Validation: Sendable, Equatable, Codable {
        public var sql: String
        public var expect: String

        public init(sql: String, expect: String) {
            self.sql = sql
            self.expect = expect
        }
    }

    public var name: String
    public var kind: Kind
    public var target: Target
    public var description: String?
    /// Overrides of the cluster's objectives; nil keeps the cluster's.
    public var rto: Duration?
    public var rpo: Duration?
    public var validation: [Validation]
    /// Switchover: the region whose node becomes the primary.
    public var to: String? = nil
    /// Switchover: switch back to the old primary afterwards (default true).
    public var switchBack = true
}

/// Reads a drill file with the configuration's located diagnostics.
public enum DrillLoader {
    public static func load(yaml: String, file: String) throws(ConfigError) -> DrillSpec {
        let log = DiagnosticLog(file: file)
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw ConfigError(diagnostics: [ConfigDiagnostic(file: file, path: "", message: "cannot parse YAML: \(error)")])
        }
        let document = YAMLField(node: root, path: "", mark: root?.mark, log: log)
        let spec = parse(document)
        guard log.diagnostics.isEmpty, let spec else { throw ConfigError(diagnostics: log.diagnostics) }
        return spec
    }

    static func parse(_ document: YAMLField) -> DrillSpec? {
        guard let top = document.object(keys: ["name", "kind", "target", "description", "objectives", "validation", "to", "switch_back"]) else { return nil }
        let name = top["name"].string(expected: "the drill's name")
        let kind = top["kind"].choice(DrillSpec.Kind.self)
        let target = top.has("target") ? top["target"].choice(DrillSpec.Target.self) : nil
        let description = top.has("description") ? top["description"].string(required: false) : nil
        var rto: Duration?, rpo: Duration?
        if top.has("objectives"), let objectives = top["objectives"].object(keys: ["rto", "rpo"]) {
            if objectives.has("rto") { rto = objectives["rto"].duration(default: nil, in: .seconds(1)...(.seconds(86400))) }
            if objectives.has("rpo") { rpo = objectives["rpo"].duration(default: nil, in: .zero...(.seconds(86400))) }
        }
        var validation: [DrillSpec.Validation] = []
        if top.has("validation") {
            guard let items = top["validation"].items() else { return nil }
            for item in items {
                guard let query = item.object(keys: ["sql", "expect"]) else { return nil }
                guard let sql = query["sql"].string(expected: "a SQL query whose first column is compared"),
                    let expect = query["expect"].string(expected: "the expected text of the first column (t for true)")
                else { return nil }
                validation.append(.init(sql: sql, expect: expect))
            }
        }
        guard let name, let kind else { return nil }
        let defaultTarget: DrillSpec.Target = kind.isLabFault ? .lab : kind == .switchover ? .cluster : .scratch
        let chosen = target ?? defaultTarget
        if kind.isLabFault, chosen != .lab, !(kind == .failover && chosen == .cluster) {
            top["target"].report("a \(kind.rawValue) drill runs against the lab (its faults are the lab's)")
        }
        if kind == .switchover, chosen != .cluster { top["target"].report("a switchover drill runs against the cluster: target: cluster") }
        if ![.switchover, .failover].contains(kind), chosen == .cluster {
            top["target"].report("only switchover and failover drills run against the cluster (restores use a scratch instance)")
        }
        var spec = DrillSpec(name: name, kind: kind, target: chosen, description: description, rto: rto, rpo: rpo, validation: validation)
        if kind == .switchover {
            spec.to = top["to"].string(expected: "the region whose node becomes the primary")
            spec.switchBack = top["switch_back"].bool(default: true) ?? true
        } else {
            for key in ["to", "switch_back"] where top.has(key) { top[key].report("only a switchover drill takes \(key)") }
        }
        return spec
    }
}
