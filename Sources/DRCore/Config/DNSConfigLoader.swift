/// Parses the `dns` section: providers (with their credentials' locations) and records.
enum DNSConfigLoader {
    /// The credentials each provider kind needs, by name; each is read as NAME_env/NAME_file.
    static func credentialNames(for kind: DNSProviderKind) -> [String] {
        switch kind {
        case .powerdns: ["api_key"]
        case .cloudflare: ["api_token"]
        case .route53: ["access_key_id", "secret_access_key"]
        }
    }

    static func defaultURL(for kind: DNSProviderKind) -> String? {
        switch kind {
        case .powerdns: nil
        case .cloudflare: "https://api.cloudflare.com/client/v4"
        case .route53: "https://route53.amazonaws.com"
        }
    }

    static func parse(_ field: YAMLField) -> DNSConfig? {
        guard field.isPresent else { return DNSConfig.none }
        guard let object = field.object(keys: ConfigKeys.dns) else { return nil }
        let providerItems = object["providers"].items()
        let providers = providerItems?.compactMap(parseProvider)
        let recordItems = object["records"].items()
        let records = recordItems?.compactMap(parseRecord)
        let recheck = object["recheck_interval"].duration(default: .seconds(60), in: .seconds(1)...(.seconds(86400)))
        guard let providers, let records, let recheck, providers.count == providerItems?.count, records.count == recordItems?.count else { return nil }
        var config = DNSConfig(providers: providers, records: records)
        config.recheckInterval = recheck
        return config
    }

    private static func parseProvider(_ field: YAMLField) -> DNSProviderConfig? {
        guard let object = field.object(keys: ConfigKeys.provider) else { return nil }
        let name = object["name"].string(expected: "the provider's name, used by records")
        guard let kind = object["type"].choice(DNSProviderKind.self) else { return nil }
        let url = object["url"].string(required: defaultURL(for: kind) == nil, expected: "the API base URL, e.g. http://127.0.0.1:8081") ?? defaultURL(for: kind)
        if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            object["url"].report("expected an http:// or https:// URL, found \"\(url)\"")
        }
        let needed = credentialNames(for: kind)
        for other in DNSProviderKind.allCases where other != kind {
            for credential in credentialNames(for: other) where !needed.contains(credential) {
                for key in [credential, "\(credential)_env", "\(credential)_file"] where object.has(key) {
                    object[key].report("does not apply to a \(kind.rawValue) provider (it takes \(needed.joined(separator: ", ")))")
                }
            }
        }
        var credentials: [String: SecretSource] = [:]
        for credential in needed {
            SecretFields.refuseInline(object, name: credential)
            if let source = SecretFields.read(object, name: credential, required: true) { credentials[credential] = source }
        }
        var zone: String?, serverID: String?, hostedZoneID: String?
        switch kind {
        case .powerdns:
            zone = object["zone"].string(expected: "the zone's name, e.g. example.com.").map(FQDN.normalized)
            serverID = object["server_id"].string(required: false) ?? "localhost"
        case .cloudflare:
            zone = object["zone"].string(expected: "the zone's name, e.g. example.com").map(FQDN.normalized)
        case .route53:
            hostedZoneID = object["hosted_zone_id"].string(expected: "the hosted zone's id, e.g. Z1D633PJN98FT9")
        }
        for key in ["zone", "server_id", "hosted_zone_id"] where object.has(key) {
            let applies = (key == "zone" && kind != .route53) || (key == "server_id" && kind == .powerdns) || (key == "hosted_zone_id" && kind == .route53)
            if !applies { object[key].report("does not apply to a \(kind.rawValue) provider") }
        }
        var nameservers: [String] = []
        if object.has("nameservers") {
            guard let items = object["nameservers"].items() else { return nil }
            for item in items {
                guard let server = item.string(expected: "an authoritative server as host or host:port, e.g. 127.0.0.1:5300") else { return nil }
                if server.isEmpty || server.contains(" ") { item.report("expected host or host:port, found \"\(server)\"") }
                nameservers.append(server)
            }
        }
        guard let name, let url, credentials.count == needed.count else { return nil }
        if kind != .route53, zone == nil { return nil }
        if kind == .route53, hostedZoneID == nil { return nil }
        var provider = DNSProviderConfig(name: name, kind: kind, url: url, zone: zone, serverID: serverID, hostedZoneID: hostedZoneID, credentials: credentials)
        provider.nameservers = nameservers
        return provider
    }

    private static func parseRecord(_ field: YAMLField) -> DNSRecordConfig? {
        guard let object = field.object(keys: ConfigKeys.record) else { return nil }
        let name = object["name"].string(expected: "the record's fully qualified name, e.g. db.example.com.").map(FQDN.normalized)
        let type = object["type"].choice(DNSRecordType.self)
        let ttl = object["ttl"].duration(default: .seconds(30), in: .seconds(1)...(.seconds(86400)))
        if let ttl, ttl.milliseconds % 1000 != 0 { object["ttl"].report("DNS TTLs are whole seconds, found \(DurationText.format(ttl))") }
        let provider = object["provider"].string(expected: "the name of a provider in dns.providers")
        var target: RecordTarget?
        if let text = object["points_to"].string(expected: "primary, or region:NAME") {
            if text == "primary" {
                target = .primary
            } else if text.hasPrefix("region:"), text.count > 7 {
                target = .region(String(text.dropFirst(7)))
            } else {
                object["points_to"].report("expected primary, or region:NAME, found \"\(text)\"")
            }
        }
        guard let name, let type, let ttl, let provider, let target else { return nil }
        return DNSRecordConfig(name: name, type: type, ttl: ttl, provider: provider, target: target)
    }
}

/// Fully qualified domain names as DNS APIs want them: lower case, with the trailing dot.
public enum FQDN {
    public static func normalized(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? lower : lower + "."
    }
}
