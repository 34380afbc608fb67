import DRCoordination
import DRHTTP
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// The status page in a real browser: headless Chromium (Debian's `chromium`) loads each
    /// agent's `GET /`, the test reads the DOM it built, and a screenshot of each state is
    /// kept under `.build/test-artifacts/`.
    @Suite("the status page in headless Chromium")
    struct StatusPageIntegrationTests {
        static let artifacts = TestArtifacts.root

        /// What the page shows, read from the DOM Chromium built: the verdict, each node's role,
        /// the warnings and the failovers listed.
        struct Seen: Decodable {
            var verdict: String
            var roles: [String: String]
            var warnings: [String]
            var failovers: Int
            var refresh: String?
            var emptyRegions: [String]
            var drills: [String]
            var backups: [String]
        }

        /// Loads `url` in headless Chromium, saves a screenshot as `name`.png, and returns
        /// what the DOM holds.
        func open(_ url: String, screenshot name: String, lab: LabState) async throws -> Seen {
            let profile = "\(lab.dir)/chromium-\(name)"
            let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=\(profile)"]
            let dom = try await CommandRunner.run(["chromium"] + flags + ["--dump-dom", url])
            try FileManager.default.createDirectory(atPath: Self.artifacts, withIntermediateDirectories: true)
            let shot = "\(Self.artifacts)/status-page-\(name).png"
            try? FileManager.default.removeItem(atPath: shot)
            _ = try await CommandRunner.run(["chromium"] + flags + ["--window-size=1280,1400", "--screenshot=\(shot)", url], check: false)
            #expect(FileManager.default.fileExists(atPath: shot), "a screenshot at \(shot)")
            let reader = """
                import json, sys
                from html.parser import HTMLParser
                class Page(HTMLParser):
                    def __init__(self):
                        super().__init__(); self.seen = {"verdict": "", "roles": {}, "warnings": [], "failovers": 0, "refresh": None, "emptyRegions": [], "drills": [], "backups": []}; self.at = None
                    def handle_starttag(self, tag, attrs):
                        a = dict(attrs)
                        if a.get("id") == "verdict": self.at = "verdict"
                        if tag == "li" and self.at == "warnings-list": self.at = "warning"; self.seen["warnings"].append("")
                        if a.get("id") == "warnings": self.at = "warnings-list"
                        if tag == "tr" and "data-node" in a: self.seen["roles"][a["data-node"]] = a["data-role"]
                        if tag == "tr" and "data-term" in a: self.seen["failovers"] += 1
                        if tag == "tr" and "data-region" in a: self.seen["emptyRegions"].append(a["data-region"])
                        if tag == "tr" and "data-kind" in a: self.seen["backups"].append(a["data-kind"])
                        if tag == "a" and a.get("href", "").startswith("drills/"): self.seen["drills"].append(a["href"])
                        if tag == "meta" and a.get("http-equiv") == "refresh": self.seen["refresh"] = a.get("content")
                    def handle_endtag(self, tag):
                        if tag == "p" and self.at == "verdict": self.at = None
                        if tag == "li" and self.at == "warning": self.at = "warnings-list"
                        if tag == "ul" and self.at == "warnings-list": self.at = None
                    def handle_data(self, data):
                        if self.at == "verdict": self.seen["verdict"] += data
                        if self.at == "warning": self.seen["warnings"][-1] += data
                page = Page(); page.feed(sys.stdin.read()); print(json.dumps(page.seen))
                """
            let domFile = "\(lab.dir)/dom-\(name).html"
            try dom.stdout.write(toFile: domFile, atomically: true, encoding: .utf8)
            let parsed = try await CommandRunner.run(["sh", "-c", "python3 -c \"$0\" < \"$1\"", reader, domFile])
            return try JSONDecoder().decode(Seen.self, from: Data(parsed.stdout.utf8))
        }

        @Test func aHealthyLabThenAFailoverAsAnOperatorSeesThem() async throws {
            // Chromium's first start reads a few hundred MB and takes both cores for a moment:
            // done before the lab runs, so that burst cannot starve the primary's health checks
            // (400 ms each in the lab) into a failover before the first page is read (seen once
            // in a clean-clone run: pg1 "down", pg2 primary at the first load).
            let profile = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-chromium-warmup-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: profile) }
            _ = try? await CommandRunner.run(
                ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)", "--dump-dom", "about:blank"],
                check: false)
            try await withLab { lab in
                let agents = try Lab.status(dir: lab.dir).agents
                let page1 = try #require(agents.first { $0.region == "region1" }?.api) + "/"
                let page2 = try #require(agents.first { $0.region == "region2" }?.api) + "/"
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                // Both members published and the standby streaming: the page says healthy.
                let settled = try await eventually(within: .seconds(20)) {
                    try await etcd.members().filter { $0.healthy }.count == 2
                }
                #expect(settled)
                var healthy = try await open(page2, screenshot: "healthy", lab: lab)
                if healthy.verdict != "healthy" {
                    // The scheduler lists the evidence every 15 s; one reload is what an operator does.
                    try await Task.sleep(for: .seconds(2))
                    healthy = try await open(page2, screenshot: "healthy", lab: lab)
                }
                #expect(healthy.verdict == "healthy", "\(healthy.warnings)")
                #expect(healthy.roles["pg1"] == "primary" && healthy.roles["pg2"] == "standby", "\(healthy.roles)")
                #expect(healthy.refresh == "5", "the page reloads itself")
                #expect(healthy.emptyRegions == ["region3"], "the cold region without nodes is shown too")

                // A drill (which takes a backup first): the page lists both, and serves the report.
                let drills = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appendingPathComponent("drills/restore-latest.yaml").path
                let drill = try await CommandRunner.run([try DrctlBinary.path(), "drill", "run", drills, "--config", lab.configFile], check: false)
                #expect(drill.status == 0, "\(drill.stdout)\(drill.stderr)")
                var listedDrill: Seen?
                // The scheduler lists the repository every 15 s.
                _ = try await eventually(within: .seconds(40)) {
                    let seen = try await open(page2, screenshot: "with-drill", lab: lab)
                    listedDrill = seen
                    return !seen.drills.isEmpty && !seen.backups.isEmpty
                }
                let report = try #require(listedDrill?.drills.first, "the drill is listed with a link")
                #expect(listedDrill?.backups.contains("logical") == true, "\(String(describing: listedDrill))")
                let page = try await HTTPClient().send(HTTPRequest(url: page2 + report))
                #expect(page.status == 200 && page.text.contains("<svg"), "the agent serves the drill's report")
                let elsewhere = try await HTTPClient().send(HTTPRequest(url: page2 + "drills/..%2F..%2Fmanifest.json/report.html"))
                #expect(elsewhere.status == 404, "only listed reports are served")

                // The primary's postmaster dies: after the failover both agents' pages show pg2 leading.
                let pg1 = try lab.node("pg1")
                kill(try #require(pg1.pid), SIGKILL)
                let failedOver = try await eventually(within: .seconds(30)) { try await etcd.leader()?.node == "pg2" }
                #expect(failedOver)
                let listed = try await eventually(within: .seconds(40)) { try await etcd.history().contains { $0.promoted == "pg2" } }
                #expect(listed, "the failover's evidence is in etcd")
                let after = try await eventually(within: .seconds(30)) {
                    let seen = try await open(page2, screenshot: "after-failover", lab: lab)
                    return seen.roles["pg2"] == "primary" && seen.failovers >= 1
                }
                #expect(after, "pg2's page shows it primary, with the failover listed")
                let seen = try await open(page2, screenshot: "after-failover", lab: lab)
                #expect(seen.roles["pg1"] != "primary", "\(seen.roles)")
                #expect(seen.warnings.contains { $0.contains("pg1") }, "the old primary is a warning: \(seen.warnings)")
                // The old primary's agent serves the page too, from its own view.
                let old = try await open(page1, screenshot: "old-primary-agent", lab: lab)
                #expect(old.roles["pg2"] == "primary", "\(old.roles)")
            }
        }
    }
}
