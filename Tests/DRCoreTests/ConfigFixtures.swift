/// A complete, valid configuration; bad configurations in the tests are edits of it, so
/// each test shows exactly which line breaks it.
enum ConfigFixtures {
    static let valid = """
        cluster: shop
        objectives:
          rto: 30s
          rpo: 5s
        coordination:
          endpoints: [http://10.0.1.5:2379, http://10.0.2.5:2379, http://10.0.3.5:2379]
          lease_ttl: 5s
        health:
          interval: 1s
          failures: 3
          timeout: 500ms
          checks:
            - type: postgres
            - type: tcp
              target: "{address}:5432"
        failover:
          promotion_timeout: 10s
          cooldown: 5m
        regions:
          - name: eu-west
            role: primary
            priority: 100
            nodes:
              - name: pg-eu
                conninfo: "host=10.0.1.10 port=5432 user=drctl dbname=postgres"
                address: 10.0.1.10
                data_dir: /var/lib/postgresql/15/main
          - name: eu-central
            role: hot-standby
            priority: 90
            nodes:
              - name: pg-de
                conninfo: "postgresql://drctl@10.0.2.10:5432/postgres"
                address: 10.0.2.10
                data_dir: /var/lib/postgresql/15/main
                tags: [nofailover]
              - name: pg-de2
                conninfo: "host=10.0.2.11"
                address: 10.0.2.11
                data_dir: /var/lib/postgresql/15/main
          - name: us-east
            role: cold
            nodes: []
        dns:
          providers:
            - name: pdns
              type: powerdns
              url: http://10.0.9.1:8081
              zone: shop.example.
              api_key_env: PDNS_API_KEY
            - name: cf
              type: cloudflare
              zone: example.com
              api_token_file: /etc/drctl/cloudflare-token
          records:
            - name: db.shop.example.
              type: A
              ttl: 5s
              provider: pdns
              points_to: primary
            - name: app.example.com
              type: A
              ttl: 60s
              provider: cf
              points_to: region:eu-central
        backup:
          repository: /srv/backups/shop
          repository_region: eu-central
          allowed_regions: [eu-central, eu-west]

        """

    /// `valid` with the first occurrence of `old` replaced by `new`.
    static func replacing(_ old: String, with new: String) -> String {
        guard let range = valid.range(of: old) else { return "MISSING FIXTURE TEXT: \(old)" }
        return valid.replacingCharacters(in: range, with: new)
    }
}
