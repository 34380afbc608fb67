/// Every key the configuration accepts, section by section: the loaders refuse any other
/// key (with a suggestion), and the reference configuration (`examples/drctl.yaml`) must
/// mention each one — a test holds it to that, so a new key cannot go undocumented.
public enum ConfigKeys {
    static let top: Set<String> = ["cluster", "objectives", "coordination", "regions", "health", "failover", "dns", "backup", "schedules", "replica", "notifications", "log", "hooks"]
    static let objectives: Set<String> = ["rto", "rpo"]
    static let coordination: Set<String> = ["endpoints", "lease_ttl", "prefix", "tls", "username", "password", "password_env", "password_file"]
    static let tls: Set<String> = ["ca_file", "cert_file", "key_file"]
    static let region: Set<String> = ["name", "role", "priority", "nodes", "api", "provider_region", "etcd_member"]
    static let node: Set<String> = ["name", "conninfo", "data_dir", "address", "tags"]
    static let health: Set<String> = ["interval", "failures", "timeout", "checks"]
    static let check: Set<String> = ["type", "target", "url"]
    static let failover: Set<String> = [
        "promotion_timeout", "dns_update_timeout", "cooldown", "auto_rejoin", "synchronous", "synchronous_strict", "restart_attempts", "failsafe",
        "failsafe_secret", "failsafe_secret_env", "failsafe_secret_file",
    ]
    static let dns: Set<String> = ["providers", "records", "recheck_interval"]
    /// A provider's keys, with every kind's credentials as NAME, NAME_env and NAME_file
    /// (the loader then refuses the ones that do not apply to the provider's kind).
    static let provider: Set<String> = DNSProviderKind.allCases.reduce(into: ["name", "type", "url", "zone", "server_id", "hosted_zone_id", "nameservers"]) {
        keys, kind in
        for credential in DNSConfigLoader.credentialNames(for: kind) { keys.formUnion([credential, "\(credential)_env", "\(credential)_file"]) }
    }
    static let record: Set<String> = ["name", "type", "ttl", "provider", "points_to"]
    static let backup: Set<String> = [
        "repository", "repository_region", "allowed_regions", "retention", "databases", "validation", "s3", "compression", "compression_level", "wal_compression_level", "archive_async",
        "archive_workers", "archive_spool",
        "encryption", "fetch_ahead",
    ]
    static let s3: Set<String> = [
        "endpoint", "addressing", "part_size_mib", "max_attempts", "server_side_encryption", "kms_key_id", "storage_class", "profile", "access_key_id", "secret_access_key", "session_token",
        "access_key_id_env",
        "access_key_id_file", "secret_access_key_env",
        "secret_access_key_file",
        "session_token_env", "session_token_file",
    ]
    static let encryption: Set<String> = ["key", "key_env", "key_file", "previous_key_files"]
    static let log: Set<String> = ["format", "level"]
    static let hooks: Set<String> = ["on_start", "on_stop", "on_role_change", "timeout"]
    static let retentionCounts: Set<String> = ["keep_last", "hourly", "daily", "weekly", "monthly"]
    static let retention: Set<String> = retentionCounts.union(["base", "logical"])
    static let validation: Set<String> = ["sql", "expect"]
    static let schedule: Set<String> = ["name", "cron", "backup", "drill"]
    static let replica: Set<String> = ["create_from", "ignore_slots"]
    static let notification: Set<String> = [
        "name", "type", "url", "url_env", "url_file", "secret", "secret_env", "secret_file", "routing_key", "routing_key_env", "routing_key_file", "events",
    ]

    /// Each section's path (list items written as `[]`) and its keys.
    public static let all: [(section: String, keys: Set<String>)] = [
        ("", top), ("objectives", objectives), ("coordination", coordination), ("coordination.tls", tls), ("regions[]", region),
        ("regions[].nodes[]", node), ("health", health), ("health.checks[]", check), ("failover", failover), ("dns", dns),
        ("dns.providers[]", provider), ("dns.records[]", record), ("backup", backup), ("backup.s3", s3), ("backup.encryption", encryption), ("backup.retention", retention),
        ("backup.retention.base", retentionCounts), ("backup.retention.logical", retentionCounts),
        ("backup.validation[]", validation), ("schedules[]", schedule), ("replica", replica),
        ("notifications[]", notification), ("log", log), ("hooks", hooks),
    ]
}

extension ConfigKeys {
    /// Where an operator finds every key explained: named in unknown-key errors and by
    /// `drctl config check`.
    public static let reference = "share/doc/drctl/drctl.yaml (installed) or examples/drctl.yaml (source)"
}
