import Yams

/// Turns YAML text into a validated `ClusterConfig`, or a `ConfigError` listing every
/// problem with its file, line, key path and what was expected.
///
/// Pure: the caller reads the file; this only parses, so it is tested without a disk.
public enum ConfigLoader {
    public static func load(yaml: String, file: String) throws(ConfigError) -> ClusterConfig {
        let log = DiagnosticLog(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(diagnostics: [syntaxDiagnostic(error, file: file)])
        } catch {
            throw ConfigError(diagnostics: [ConfigDiagnostic(file: file, path: "", message: "cannot parse YAML: \(error)")])
        }
        let document = YAMLField(node: root, path: "", mark: root?.mark, log: log)
        guard document.isPresent else {
            throw ConfigError(diagnostics: [
                ConfigDiagnostic(file: file, line: nil, column: nil, path: "", message: "the file is empty; expected a mapping with keys \(ConfigKeys.top.sorted().joined(separator: ", "))")
            ])
        }
        let config = parse(document)
        if let config { ConfigRules.check(config, document: document) }
        guard log.diagnostics.isEmpty, let config else {
            throw ConfigError(diagnostics: log.diagnostics)
        }
        return config
    }

    private static func syntaxDiagnostic(_ error: YamlError, file: String) -> ConfigDiagnostic {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let what = [context?.text, problem].compactMap { $0 }.joined(separator: " ")
            return ConfigDiagnostic(file: file, line: mark.line, column: mark.column, path: "", message: "YAML syntax error: \(what)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return ConfigDiagnostic(
                file: file, line: context.mark.line, column: context.mark.column, path: "",
                message: "duplicate key \(keys) in this mapping: the later value would silently replace the earlier")
        default:
            return ConfigDiagnostic(file: file, path: "", message: "YAML error: \(error)")
        }
    }

    private static func parse(_ document: YAMLField) -> ClusterConfig? {
        guard let top = document.object(keys: ConfigKeys.top) else { return nil }
        let cluster = top["cluster"].string(expected: "the cluster's name")
        if let cluster, !Naming.isValid(cluster) { top["cluster"].report(Naming.rule) }
        let objectives = parseObjectives(top["objectives"])
        let coordination = parseCoordination(top["coordination"], cluster: cluster ?? "")
        let regions = parseRegions(top["regions"])
        let health = parseHealth(top["health"])
        let failover = parseFailover(top["failover"])
        let dns = DNSConfigLoader.parse(top["dns"])
        let backup = parseBackup(top["backup"])
        let schedules = ScheduleConfigLoader.parse(top["schedules"], hasBackup: backup != nil && backup! != nil)
        let replica = ReplicaConfig.parse(top["replica"], hasBackup: backup != nil && backup! != nil)
        let notifications = NotificationConfigLoader.parse(top["notifications"])
        let log = LogConfig.parse(top["log"])
        let hooks = HooksConfig.parse(top["hooks"])
        guard let cluster, let objectives, let coordination, let regions, let health,
            let failover, let dns, let backup, let schedules, let replica, let notifications, let log, let hooks
        else { return nil }
        var config = ClusterConfig(
            cluster: cluster, objectives: objectives, coordination: coordination, regions: regions,
            health: health, failover: failover, dns: dns, backup: backup)
        config.schedules = schedules
        config.replica = replica
        config.notifications = notifications
        config.log = log
        config.hooks = hooks
        return config
    }

    private static func parseObjectives(_ field: YAMLField) -> Objectives? {
        guard let object = field.object(keys: ConfigKeys.objectives) else { return nil }
        let rto = object["rto"].duration(default: nil, in: .seconds(1)...(.seconds(86400)))
        let rpo = object["rpo"].duration(default: nil, in: .zero...(.seconds(86400)))
        guard let rto, let rpo else { return nil }
        return Objectives(rto: rto, rpo: rpo)
    }

    private static func parseCoordination(_ field: YAMLField, cluster: String) -> CoordinationConfig? {
        guard let object = field.object(keys: ConfigKeys.coordination) else { return nil }
        let endpointsField = object["endpoints"]
        var endpoints = endpointsField.strings()
        if let list = endpoints {
            if list.isEmpty { endpointsField.report("is required (a list of etcd client URLs like http://10.0.0.1:2379)"); endpoints = nil }
            for (index, url) in list.enumerated() where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                endpointsField.items()?[index].report("expected an etcd client URL starting with http:// or https://, found \"\(url)\"")
                endpoints = nil
            }
        }
        let ttl = object["lease_ttl"].duration(default: .seconds(10), in: .seconds(2)...(.seconds(3600)))
        if let ttl, ttl.milliseconds % 1000 != 0 {
            object["lease_ttl"].report("etcd lease TTLs are whole seconds, found \(DurationText.format(ttl))")
        }
        let prefix = object["prefix"].string(required: false) ?? "/drctl/\(cluster)/"
        if !prefix.hasPrefix("/") { object["prefix"].report("expected a key prefix starting with /, found \"\(prefix)\"") }
        let tls = parseTLS(object["tls"])
        let auth = parseEtcdAuth(object)
        guard let endpoints, let ttl, let tls, let auth else { return nil }
        return CoordinationConfig(endpoints: endpoints, leaseTTL: ttl, prefix: prefix.hasSuffix("/") ? prefix : prefix + "/", tls: tls, auth: auth)
    }

    private static func parseTLS(_ field: YAMLField) -> TLSConfig?? {
        guard field.isPresent else { return .some(nil) }
        guard let object = field.object(keys: ConfigKeys.tls) else { return nil }
        let tls = TLSConfig(caFile: object["ca_file"].string(required: false), certFile: object["cert_file"].string(required: false), keyFile: object["key_file"].string(required: false))
        if (tls.certFile == nil) != (tls.keyFile == nil) {
            field.report("cert_file and key_file go together: give both or neither")
        }
        return .some(tls)
    }

    private static func parseEtcdAuth(_ object: YAMLObject) -> EtcdAuth?? {
        let username = object["username"].string(required: false)
        SecretFields.refuseInline(object, name: "password")
        let secret = SecretFields.read(object, name: "password", required: username != nil)
        if username == nil, object.has("password_env") || object.has("password_file") {
            object["username"].report("is required when a password is given")
            return nil
        }
        guard let username else { return .some(nil) }
        guard let secret else { return nil }
        return .some(EtcdAuth(username: username, password: secret))
    }

    private static func parseRegions(_ field: YAMLField) -> [RegionConfig]? {
        guard field.isPresent else { field.report("is required (a list of regions, each with name, role and nodes)"); return nil }
        guard let items = field.items() else { return nil }
        let regions = items.compactMap { item -> RegionConfig? in
            guard let object = item.object(keys: ConfigKeys.region) else { return nil }
            let name = object["name"].string(expected: "the region's name")
            if let name, !Naming.isValid(name) { object["name"].report(Naming.rule) }
            let role = object["role"].choice(RegionRole.self)
            let priority = object["priority"].int(in: 0...1000, default: 100)
            let nodes = object["nodes"].items()?.compactMap(parseNode)
            var api: APIEndpoint?
            if object.has("api") {
                guard let text = object["api"].string(expected: "the agent's HTTP API as host:port, e.g. 10.1.0.5:8008") else { return nil }
                api = APIEndpoint.parse(text)
                if api == nil { object["api"].report("expected host:port with a port in 1...65535, e.g. 10.1.0.5:8008, found \"\(text)\"") }
            }
            let providerRegion = object["provider_region"].string(required: false, expected: "the cloud provider's region name, e.g. eu-west-1")
            let etcdMember = object["etcd_member"].string(required: false, expected: "the name (etcd --name) of the etcd member in this region, e.g. etcd-eu1")
            guard let name, let role, let priority, let nodes,
                nodes.count == object["nodes"].items()?.count
            else { return nil }
            var region = RegionConfig(name: name, role: role, priority: priority, nodes: nodes)
            region.api = api
            region.providerRegion = providerRegion
            region.etcdMember = etcdMember
            return region
        }
        return regions.count == items.count ? regions : nil
    }

    private static func parseNode(_ field: YAMLField) -> NodeConfig? {
        guard let object = field.object(keys: ConfigKeys.node) else { return nil }
        let name = object["name"].string(expected: "the node's name")
        if let name, !Naming.isValid(name) { object["name"].report(Naming.rule) }
        let conninfo = object["conninfo"].string(expected: "a libpq connection string like \"host=10.0.0.1 port=5432 user=drctl dbname=postgres\"")
        var connection: Conninfo?
        if let conninfo {
            do {
                let parsed = try Conninfo.parse(conninfo)
                if parsed.hasPassword {
                    object["conninfo"].report("must not contain a password: put it in a .pgpass file (passfile=PATH) or PGPASSWORD, never in the config")
                } else {
                    connection = parsed
                }
            } catch {
                object["conninfo"].report("is not a valid libpq connection string: \(error)")
            }
        }
        let dataDir = object["data_dir"].string(required: false)
        if let dataDir, !dataDir.hasPrefix("/") { object["data_dir"].report("expected an absolute path, found \"\(dataDir)\"") }
        let address = object["address"].string(required: false)
        var tags = Set<NodeTag>()
        for tag in object["tags"].items() ?? [] {
            if let value = tag.choice(NodeTag.self) { tags.insert(value) }
        }
        guard let name, let conninfo, let connection else { return nil }
        return NodeConfig(name: name, conninfo: conninfo, connection: connection, dataDir: dataDir, address: address, tags: tags)
    }

    private static func parseHealth(_ field: YAMLField) -> HealthConfig? {
        let defaults = HealthConfig(interval: .seconds(1), failures: 3, timeout: .seconds(1), checks: [.postgres])
        guard field.isPresent else { return defaults }
        guard let object = field.object(keys: ConfigKeys.health) else { return nil }
        let interval = object["interval"].duration(default: defaults.interval, in: .milliseconds(100)...(.seconds(600)))
        let failures = object["failures"].int(in: 1...100, default: defaults.failures)
        let timeout = object["timeout"].duration(default: defaults.timeout, in: .milliseconds(50)...(.seconds(600)))
        var checks: [HealthCheck]? = defaults.checks
        if object.has("checks"), let items = object["checks"].items() {
            let parsed = items.compactMap(parseCheck)
            checks = parsed.count == items.count ? parsed : nil
        }
        guard let interval, let failures, let timeout, let checks else { return nil }
        if timeout > interval {
            object["timeout"].report("\(DurationText.format(timeout)) is longer than the interval \(DurationText.format(interval)): a check must finish before the next one starts")
        }
        return HealthConfig(interval: interval, failures: failures, timeout: timeout, checks: checks)
    }

    private enum CheckKind: String, CaseIterable { case postgres, tcp, http }

    private static func parseCheck(_ field: YAMLField) -> HealthCheck? {
        guard let object = field.object(keys: ConfigKeys.check) else { return nil }
        switch object["type"].choice(CheckKind.self) {
        case .postgres:
            for key in ["target", "url"] where object.has(key) { object[key].report("does not apply to a postgres check (it uses the node's conninfo)") }
            return .postgres
        case .tcp:
            guard let target = object["target"].string(expected: "host:port, e.g. \"{address}:5432\"") else { return nil }
            guard let colon = target.lastIndex(of: ":"), Int(target[target.index(after: colon)...]) != nil else {
                object["target"].report("expected host:port, found \"\(target)\"")
                return nil
            }
            return .tcp(target: target)
        case .http:
            guard let url = object["url"].string(expected: "an http:// or https:// URL") else { return nil }
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                object["url"].report("expected an http:// or https:// URL, found \"\(url)\"")
                return nil
            }
            return .http(url: url)
        case nil:
            return nil
        }
    }

    private static func parseFailover(_ field: YAMLField) -> FailoverConfig? {
        let defaults = FailoverConfig(promotionTimeout: .seconds(10), dnsUpdateTimeout: .seconds(10), cooldown: .seconds(300), autoRejoin: false)
        guard field.isPresent else { return defaults }
        guard
            let object = field.object(keys: ConfigKeys.failover)
        else { return nil }
        let promotion = object["promotion_timeout"].duration(default: defaults.promotionTimeout, in: .seconds(1)...(.seconds(3600)))
        let dns = object["dns_update_timeout"].duration(default: defaults.dnsUpdateTimeout, in: .seconds(1)...(.seconds(3600)))
        let cooldown = object["cooldown"].duration(default: defaults.cooldown, in: .zero...(.seconds(86400)))
        let rejoin = object["auto_rejoin"].bool(default: defaults.autoRejoin)
        let synchronous = object["synchronous"].bool(default: false)
        let strict = object["synchronous_strict"].bool(default: false)
        let restarts = object["restart_attempts"].int(in: 0...10, default: 0)
        let failsafe = object["failsafe"].bool(default: false)
        guard let promotion, let dns, let cooldown, let rejoin, let synchronous, let strict, let restarts, let failsafe else { return nil }
        if strict, !synchronous { object["synchronous_strict"].report("applies only with synchronous: true") }
        SecretFields.refuseInline(object, name: "failsafe_secret")
        let secret = SecretFields.read(object, name: "failsafe_secret", required: false)
        if secret != nil, !failsafe { object["failsafe_secret_\(object.has("failsafe_secret_env") ? "env" : "file")"].report("applies only with failsafe: true") }
        var failover = FailoverConfig(promotionTimeout: promotion, dnsUpdateTimeout: dns, cooldown: cooldown, autoRejoin: rejoin)
        failover.synchronous = synchronous
        failover.synchronousStrict = strict
        failover.restartAttempts = restarts
        failover.failsafe = failsafe
        failover.failsafeSecret = secret
        return failover
    }

    private static func parseBackup(_ field: YAMLField) -> BackupConfig?? {
        guard field.isPresent else { return .some(nil) }
        guard let object = field.object(keys: ConfigKeys.backup) else { return nil }
        let repository = object["repository"].string(expected: "an absolute directory path or s3://BUCKET/PREFIX")
        var objectStorage: S3RepositoryConfig??
        if let repository, repository.hasPrefix("s3://") {
            objectStorage = S3ConfigLoader.parse(object["s3"], repository: repository, at: object["repository"])
        } else {
            if let repository, !repository.hasPrefix("/") {
                object["repository"].report("expected an absolute directory path or s3://BUCKET/PREFIX, found \"\(repository)\"")
            }
            if object.has("s3") { object["s3"].report("applies only to a repository given as s3://BUCKET/PREFIX") }
            objectStorage = .some(nil)
        }
        let region = object["repository_region"].string(expected: "the region where the repository is stored")
        let allowed = object["allowed_regions"].strings()
        if allowed?.isEmpty == true { object["allowed_regions"].report("is required (the regions where backups may be stored)") }
        var retention = RepositoryRetention()
        if object.has("retention") {
            guard let keep = object["retention"].object(keys: ConfigKeys.retention) else { return nil }
            // The counts given directly apply to both kinds; `base:` and `logical:` refine them.
            func policy(_ keys: YAMLObject, _ defaults: RetentionPolicy) -> RetentionPolicy {
                func count(_ key: String, _ fallback: Int) -> Int { keys.has(key) ? keys[key].int(in: 0...10000, default: fallback) ?? fallback : fallback }
                let policy = RetentionPolicy(
                    keepLast: count("keep_last", defaults.keepLast), hourly: count("hourly", defaults.hourly),
                    daily: count("daily", defaults.daily), weekly: count("weekly", defaults.weekly), monthly: count("monthly", defaults.monthly))
                if policy.keepLast < 1 { keys["keep_last"].report("must keep at least 1 backup") }
                return policy
            }
            let common = policy(keep, RetentionPolicy())
            retention = RepositoryRetention(base: common, logical: common)
            for kind in ["base", "logical"] where keep.has(kind) {
                guard let own = keep[kind].object(keys: ConfigKeys.retentionCounts) else { return nil }
                if kind == "base" { retention.base = policy(own, common) } else { retention.logical = policy(own, common) }
            }
        }
        let databases = object.has("databases") ? object["databases"].strings() : []
        var compression = BackupCompression()
        if object.has("compression"), let method = object["compression"].choice(BackupCompression.Method.self) { compression.method = method }
        if object.has("compression_level"), let level = object["compression_level"].int(in: 1...19, default: 3) { compression.level = level }
        if object.has("wal_compression_level"), let level = object["wal_compression_level"].int(in: 1...19, default: 3) { compression.walLevel = level }
        let archiveAsync = object["archive_async"].bool(default: false) ?? false
        let archiveWorkers = object.has("archive_workers") ? object["archive_workers"].int(in: 1...16, default: 2) ?? 2 : 2
        let fetchAhead = object.has("fetch_ahead") ? object["fetch_ahead"].int(in: 0...64, default: 8) ?? 8 : 8
        let archiveSpool = object.has("archive_spool") ? object["archive_spool"].string(expected: "an absolute directory the database server's user can write") : nil
        if let archiveSpool, !archiveSpool.hasPrefix("/") { object["archive_spool"].report("expected an absolute path, found \"\(archiveSpool)\"") }
        var encryption: BackupEncryption?
        if object.has("encryption") {
            guard let keys = object["encryption"].object(keys: ConfigKeys.encryption) else { return nil }
            SecretFields.refuseInline(keys, name: "key")
            guard let key = SecretFields.read(keys, name: "key", required: true) else { return nil }
            let previous = keys.has("previous_key_files") ? keys["previous_key_files"].strings() ?? [] : []
            encryption = BackupEncryption(key: key, previousKeys: previous.map { .file($0) })
        }
        var validation: [DrillSpec.Validation] = []
        if object.has("validation") {
            guard let items = object["validation"].items() else { return nil }
            for item in items {
                guard let query = item.object(keys: ConfigKeys.validation),
                    let sql = query["sql"].string(expected: "a SQL query whose first column is compared"),
                    let expect = query["expect"].string(expected: "the expected text of the first column (t for true)")
                else { return nil }
                validation.append(.init(sql: sql, expect: expect))
            }
        }
        guard let repository, let region, let allowed, !allowed.isEmpty, let databases, let objectStorage else { return nil }
        var backup = BackupConfig(repository: repository, repositoryRegion: region, allowedRegions: allowed)
        backup.objectStorage = objectStorage
        backup.retention = retention
        backup.compression = compression
        backup.archiveAsync = archiveAsync
        backup.archiveWorkers = archiveWorkers
        backup.archiveSpool = archiveSpool
        backup.encryption = encryption
        backup.fetchAhead = fetchAhead
        backup.databases = databases
        backup.validation = validation
        return .some(backup)
    }
}

/// Names of clusters, regions and nodes: they become etcd keys, file names and DNS labels.
enum Naming {
    static let rule = "expected a name of lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters"

    static func isValid(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first.isNumber, name.count <= 63 else { return false }
        return name.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" || $0 == "_" } && name.allSatisfy(\.isASCII)
    }
}

/// Reads a secret's location: `NAME_env` or `NAME_file`, never `NAME` itself.
enum SecretFields {
    /// Reports a secret written in the config body; its value is never echoed back.
    static func refuseInline(_ object: YAMLObject, name: String) {
        if object.has(name) {
            object[name].report("secrets are never read from the config (it is copied, logged and committed): use \(name)_env or \(name)_file")
        }
    }

    static func read(_ object: YAMLObject, name: String, required: Bool) -> SecretSource? {
        let env = object["\(name)_env"].string(required: false)
        let file = object["\(name)_file"].string(required: false)
        switch (env, file) {
        case let (env?, nil): return .environment(env)
        case let (nil, file?): return .file(file)
        case (.some, .some):
            object["\(name)_file"].report("give \(name)_env or \(name)_file, not both")
            return nil
        case (nil, nil):
            if required { object.field.report("needs \(name)_env (an environment variable's name) or \(name)_file (a file's path); secrets are never written in the config") }
            return nil
        }
    }
}
