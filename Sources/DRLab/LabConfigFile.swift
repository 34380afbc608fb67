/// The `drctl.yaml` that `lab up` writes: a real configuration, read by every other
/// command, with objectives tight enough that lab drills finish in seconds.
enum LabConfigFile {
    static func render(_ state: LabState) -> String {
        func node(_ node: LabState.Node) -> String {
            """
                  - name: \(node.name)
                    conninfo: "host=\(node.host) port=\(node.port) user=postgres dbname=postgres"
                    data_dir: \(node.dataDir)
                    address: \(node.host)
            """
        }
        let byRegion = { (region: String) in state.nodes.filter { $0.region == region }.map(node).joined(separator: "\n") }
        let api = { (region: String) in state.agents.first { $0.region == region }.map { "\n    api: \"\($0.apiHost):\($0.apiPort)\"" } ?? "" }
        // With `etcdPlacement` and a member per region, region N names etcd member eN.
        let etcdMember = { (index: Int) in
            state.failover.etcdPlacement == true && state.etcd.count == 3 ? "\n    etcd_member: \(state.etcd[index - 1].name)" : ""
        }
        return """
            # Written by `drctl-lab up`; every drctl command run with --config \(state.configFile) reads it.
            cluster: \(state.cluster)
            objectives:
              rto: 30s
              rpo: 5s
            coordination:
              endpoints: [\(state.etcd.map(\.endpoint).joined(separator: ", "))]
              lease_ttl: \(state.failover.leaseTTL ?? "2s")
            health:
              interval: \(state.failover.healthInterval ?? "500ms")
              failures: 3
              timeout: 400ms
            failover:
              promotion_timeout: 10s
              dns_update_timeout: 5s
              cooldown: 1m
              synchronous: \(state.failover.synchronous)
              synchronous_strict: \(state.failover.synchronousStrict ?? false)
              restart_attempts: \(state.failover.restartAttempts)
              auto_rejoin: \(state.failover.autoRejoin)
              failsafe: \(state.failover.failsafe ?? false)\((state.failover.failsafe ?? false) ? "\n  failsafe_secret_file: \(state.failsafeSecretFile)" : "")
            regions:
              - name: region1
                role: primary
                priority: 100\(api("region1"))\(etcdMember(1))
                nodes:
            \(byRegion("region1"))
              - name: region2
                role: hot-standby
                priority: 90\(api("region2"))\(etcdMember(2))
                nodes:
            \(byRegion("region2"))
              - name: region3
                role: cold
                priority: 10\(api("region3"))\(etcdMember(3))
                nodes:\(state.nodes.contains { $0.region == "region3" } ? "\n" + byRegion("region3") : " []")
            dns:\(state.failover.dnsRecheckInterval.map { "\n  recheck_interval: \($0)" } ?? "")
              providers:
                - name: lab-pdns
                  type: powerdns
                  url: \(state.dns.apiURL)
                  zone: \(state.dns.zone)
                  api_key_file: \(state.dns.apiKeyFile)
                  nameservers: ["\(state.dns.host):\(state.dns.port)"]
              records:
                - name: \(state.dns.record)
                  type: A
                  ttl: 5s
                  provider: lab-pdns
                  points_to: primary
            backup:
              repository: \(state.backupDir)
              repository_region: region3
              allowed_regions: [region2, region3]
              validation:
                - {sql: "SELECT NOT pg_is_in_recovery()", expect: t}

            \(state.failover.extraConfig)
            """
    }
}
