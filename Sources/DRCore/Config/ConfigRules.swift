/// Rules that span sections of the configuration: names that must be unique, references
/// that must resolve, and combinations that cannot work. Each reports at the offending key.
enum ConfigRules {
    static func check(_ config: ClusterConfig, document: YAMLField) {
        checkRegions(config, document.child("regions"))
        checkHealth(config, document)
        checkDNS(config, document)
        checkBackup(config, document.child("backup"))
    }

    private static func checkRegions(_ config: ClusterConfig, _ regionsField: YAMLField) {
        var regionNames = Set<String>(), nodeNames = Set<String>()
        var endpoints = [String: String]()
        for (r, region) in config.regions.enumerated() {
            let regionField = regionsField.element(r)
            if !regionNames.insert(region.name).inserted {
                regionField.child("name").report("region \"\(region.name)\" is defined twice; region names must be unique")
            }
            if region.role != .cold, region.nodes.isEmpty {
                regionField.child("nodes").report("a \(region.role.rawValue) region needs at least one node (only a cold region may have none)")
            }
            for (n, node) in region.nodes.enumerated() {
                let nodeField = regionField.child("nodes").element(n)
                if !nodeNames.insert(node.name).inserted {
                    nodeField.child("name").report("node \"\(node.name)\" is defined twice; node names must be unique in the cluster")
                }
                if region.role != .cold, node.dataDir == nil {
                    nodeField.child("data_dir").report(
                        "node \"\(node.name)\" is in \(region.role.rawValue) region \"\(region.name)\", under automatic failover, but has no data_dir: its agent could not fence (stop) its database, and a failover could leave two primaries; set data_dir to its PostgreSQL data directory"
                    )
                }
                let endpoint = "\(node.connection.host):\(node.connection.port)"
                if let other = endpoints[endpoint] {
                    nodeField.child("conninfo").report("points at \(endpoint), like node \"\(other)\": two nodes cannot be the same server")
                } else {
                    endpoints[endpoint] = node.name
                }
            }
        }
        let primaries = config.regions.filter { $0.role == .primary }
        if primaries.count != 1 {
            let found = primaries.isEmpty ? "none" : primaries.map(\.name).joined(separator: ", ")
            regionsField.report("exactly one region must have role primary, found \(found)")
        }
    }

    private static func checkHealth(_ config: ClusterConfig, _ document: YAMLField) {
        let needsAddress = config.health.checks.contains {
            switch $0 {
            case .postgres: false
            case .tcp(let target): target.contains("{address}")
            case .http(let url): url.contains("{address}")
            }
        }
        guard needsAddress else { return }
        forEachNodeWithoutAddress(config, document) { field, node in
            field.report("node \"\(node.name)\" needs an address: a health check uses {address}")
        }
    }

    private static func checkDNS(_ config: ClusterConfig, _ document: YAMLField) {
        let dnsField = document.child("dns")
        var providerNames = Set<String>()
        for (p, provider) in config.dns.providers.enumerated() where !providerNames.insert(provider.name).inserted {
            dnsField.child("providers").element(p).child("name").report("provider \"\(provider.name)\" is defined twice")
        }
        var recordKeys = Set<String>()
        var pointsAtPrimary = false
        for (i, record) in config.dns.records.enumerated() {
            let field = dnsField.child("records").element(i)
            if !recordKeys.insert("\(record.name) \(record.type.rawValue)").inserted {
                field.child("name").report("\(record.type.rawValue) record \(record.name) is managed twice")
            }
            guard let provider = config.dns.providers.first(where: { $0.name == record.provider }) else {
                field.child("provider").report("no provider named \"\(record.provider)\" in dns.providers" + Suggestion.hint(for: record.provider, among: Array(providerNames)))
                continue
            }
            if let zone = provider.zone, record.name != zone, !record.name.hasSuffix("." + zone) {
                field.child("name").report("\(record.name) is not inside zone \(zone) of provider \"\(provider.name)\"")
            }
            if provider.kind == .cloudflare {
                let seconds = Int(record.ttl.seconds)
                if seconds != 1, !(60...86400).contains(seconds) {
                    field.child("ttl").report("Cloudflare accepts a TTL of 1s (automatic) or 60s to 86400s, found \(DurationText.format(record.ttl))")
                }
            }
            switch record.target {
            case .primary:
                pointsAtPrimary = true
            case .region(let name):
                if !config.regions.contains(where: { $0.name == name }) {
                    field.child("points_to").report("no region named \"\(name)\"" + Suggestion.hint(for: name, among: config.regions.map(\.name)))
                }
            }
            checkAddressFamilies(config, record, document)
        }
        if pointsAtPrimary {
            forEachNodeWithoutAddress(config, document) { field, node in
                field.report("node \"\(node.name)\" needs an address: a DNS record points at the primary, and any node may become primary")
            }
        }
    }

    private static func checkAddressFamilies(_ config: ClusterConfig, _ record: DNSRecordConfig, _ document: YAMLField) {
        for (r, region) in config.regions.enumerated() {
            if case .region(let name) = record.target, name != region.name { continue }
            for (n, node) in region.nodes.enumerated() {
                guard let address = node.address else { continue }
                let valid =
                    switch record.type {
                    case .a: IPAddressText.isIPv4(address)
                    case .aaaa: IPAddressText.isIPv6(address)
                    case .cname: !IPAddressText.isIPv4(address) && !IPAddressText.isIPv6(address)
                    }
                if !valid {
                    let expected =
                        switch record.type {
                        case .a: "an IPv4 address"
                        case .aaaa: "an IPv6 address"
                        case .cname: "a host name"
                        }
                    document.child("regions").element(r).child("nodes").element(n).child("address")
                        .report("\(record.type.rawValue) record \(record.name) can point here, so the address must be \(expected), found \"\(address)\"")
                }
            }
        }
    }

    private static func forEachNodeWithoutAddress(_ config: ClusterConfig, _ document: YAMLField, _ body: (YAMLField, NodeConfig) -> Void) {
        for (r, region) in config.regions.enumerated() {
            for (n, node) in region.nodes.enumerated() where node.address == nil {
                body(document.child("regions").element(r).child("nodes").element(n), node)
            }
        }
    }

    private static func checkBackup(_ config: ClusterConfig, _ field: YAMLField) {
        guard let backup = config.backup else { return }
        let known = config.regions.map(\.name)
        if !known.contains(backup.repositoryRegion) {
            field.child("repository_region").report("no region named \"\(backup.repositoryRegion)\"" + Suggestion.hint(for: backup.repositoryRegion, among: known))
        }
        for (i, region) in backup.allowedRegions.enumerated() where !known.contains(region) {
            field.child("allowed_regions").element(i).report("no region named \"\(region)\"" + Suggestion.hint(for: region, among: known))
        }
        if known.contains(backup.repositoryRegion), !backup.allowedRegions.contains(backup.repositoryRegion) {
            field.child("repository_region").report(
                "data residency: backups may be stored only in \(backup.allowedRegions.joined(separator: ", ")), but the repository is in \(backup.repositoryRegion)")
        }
        // The bucket reports its provider region; only a mapping to our regions makes that checkable.
        if backup.objectStorage != nil, let index = config.regions.firstIndex(where: { $0.name == backup.repositoryRegion }),
            config.regions[index].providerRegion == nil
        {
            field.child("repository").report(
                "an s3:// repository needs regions[\(index)].provider_region (the cloud provider's name for \(backup.repositoryRegion), e.g. eu-west-1): the bucket's reported region is checked against it"
            )
        }
    }
}

/// Textual IP address checks, without a resolver.
enum IPAddressText {
    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                (1...3).contains(part.count) && part.allSatisfy(\.isNumber) && (Int(part).map { $0 <= 255 } ?? false)
                    && !(part.count > 1 && part.first == "0")
            }
    }

    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
        guard text.ranges(of: "::").count <= 1 else { return false }
        let pieces = text.split(separator: ":", omittingEmptySubsequences: true)
        return pieces.count <= 8 && pieces.allSatisfy { $0.count <= 4 || isIPv4(String($0)) }
    }
}
