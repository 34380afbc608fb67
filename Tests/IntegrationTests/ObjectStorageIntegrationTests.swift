import DRBackup
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// The lab's repository moved to a bucket on a local S3 (moto behind a gate that
    /// recomputes every SigV4 signature with botocore): backups stream up, the WAL archive
    /// and restores stream down, boto3 reads what drctl wrote, residency is the provider's.
    @Suite("backups in S3 object storage")
    struct ObjectStorageIntegrationTests {
        static let bucket = "drctl-lab"

        /// The lab's config with the repository in the bucket; `region3At` is the provider
        /// region the config claims for region3 (where the repository is).
        /// `s3Lines` go under `backup.s3`, `backupLines` under `backup`.
        func s3Config(
            _ lab: LabState, _ s3: S3Server, region3At: String, from original: String, endpoint: String? = nil, s3Lines: [String] = [],
            backupLines: [String] = []
        ) throws -> String {
            let keys = "\(lab.dir)/s3-keys"
            try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
            // Read by archive_command, which runs as the database server's user.
            chmod(keys, 0o755)
            try s3.accessKey.write(toFile: "\(keys)/id", atomically: true, encoding: .utf8)
            try s3.secretKey.write(toFile: "\(keys)/secret", atomically: true, encoding: .utf8)
            chmod("\(keys)/id", 0o644)
            chmod("\(keys)/secret", 0o644)
            var lines = original.components(separatedBy: "\n")
            for (role, region) in [("role: hot-standby", "eu-central-1"), ("role: cold", region3At)] {
                let index = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == role })
                let indent = lines[index].prefix { $0 == " " }
                lines.insert("\(indent)provider_region: \(region)", at: index + 1)
            }
            let repository = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("repository: ") })
            let indent = lines[repository].prefix { $0 == " " }
            lines[repository] = "\(indent)repository: s3://\(Self.bucket)/backups"
            lines.insert(
                contentsOf: [
                    "\(indent)s3:", "\(indent)  endpoint: \(endpoint ?? s3.endpoint)", "\(indent)  part_size_mib: 5",
                    "\(indent)  access_key_id_file: \(keys)/id", "\(indent)  secret_access_key_file: \(keys)/secret",
                ] + s3Lines.map { "\(indent)  \($0)" } + backupLines.map { "\(indent)\($0)" }, at: repository + 1)
            return lines.joined(separator: "\n")
        }

        func drctl(_ arguments: [String], config: String) async throws -> CommandRunner.Output {
            try await CommandRunner.run([try DrctlBinary.path()] + arguments + ["--config", config], check: false)
        }

        /// boto3 (an independent client) lists every backup under the prefix, reads its
        /// manifest and data, and prints `ID OK|BAD` per backup.
        func boto3Check(_ s3: S3Server, sessionToken: String? = nil) async throws -> String {
            let script = """
                import boto3, hashlib, json, sys
                s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4], aws_session_token=sys.argv[6] or None)
                pages = s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[5], Prefix="backups/lab/")
                keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
                for key in sorted(k for k in keys if k.endswith("/manifest.json")):
                    m = json.loads(s3.get_object(Bucket=sys.argv[5], Key=key)["Body"].read())
                    data = s3.get_object(Bucket=sys.argv[5], Key=key.rsplit("/", 1)[0] + "/" + m["path"])["Body"].read()
                    ok = hashlib.sha256(data).hexdigest() == m["sha256"] and len(data) == m["size"]
                    print(m["id"], "OK" if ok else "BAD")
                print("wal", sum(1 for k in keys if "/wal/" in k and not k.endswith(".sha256")))
                """
            let output = try await CommandRunner.run(
                ["python3", "-c", script, s3.endpoint, s3.region, s3.accessKey, s3.secretKey, Self.bucket, sessionToken ?? ""], check: false)
            #expect(output.status == 0, "\(output.stderr)")
            return output.stdout
        }

        @Test func backupsArchiveAndRestoresGoThroughTheBucket() async throws {
            try await withLab { lab in
                let original = try String(contentsOfFile: lab.configFile, encoding: .utf8)
                let s3 = try await S3Server.start(directory: "\(lab.dir)/s3", region: "eu-west-1", buckets: [Self.bucket])
                defer { Task { try? await s3.stop() } }
                let config = "\(lab.dir)/s3.yaml"
                try s3Config(lab, s3, region3At: "eu-west-1", from: original).write(toFile: config, atomically: true, encoding: .utf8)
                // archive_command reads the lab's config: from now on WAL goes to the bucket too.
                try s3Config(lab, s3, region3At: "eu-west-1", from: original).write(toFile: lab.configFile, atomically: true, encoding: .utf8)

                let pg1 = try lab.node("pg1")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE payload AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200000) g")
                }
                let base = try await drctl(["backup", "run", "--kind", "base"], config: config)
                #expect(base.status == 0, "\(base.stdout)\(base.stderr)\((try? String(contentsOfFile: "\(lab.dir)/s3/s3-server.log", encoding: .utf8))?.suffix(3000) ?? "")")
                let logical = try await drctl(["backup", "run"], config: config)
                #expect(logical.status == 0, "\(logical.stdout)\(logical.stderr)")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("INSERT INTO payload SELECT g, 'after' FROM generate_series(200001, 200100) g")
                    _ = try await session.query("SELECT pg_switch_wal()")
                }

                let listed = try JSONDecoder().decode([BackupManifest].self, from: Data(try await drctl(["backup", "list", "--json"], config: config).stdout.utf8))
                #expect(listed.map(\.kind) == [.base, .logical])
                #expect(try #require(listed.first).size > 5 << 20, "the base backup spans several parts")
                let archived = try await eventually(within: .seconds(30)) {
                    let seen = try await boto3Check(s3)
                    return seen.contains("wal ") && !seen.contains("wal 0\n")
                }
                if !archived {
                    let probe = try await CommandRunner.run(
                        [try DrctlBinary.path(), "wal-push", "/etc/hostname", "000000010000000000000099", "--config", lab.configFile], as: .forPostgres, check: false)
                    Issue.record("archive_command pushed no WAL into the bucket; wal-push as postgres: \(probe.status) \(probe.stderr)")
                }
                let seen = try await boto3Check(s3)
                for manifest in listed { #expect(seen.contains("\(manifest.id) OK"), "boto3 reads \(manifest.id) back intact: \(seen)") }
                #expect(try await drctl(["backup", "verify"], config: config).status == 0)

                // A restore of the base backup streams it down and fetches WAL from the bucket.
                let dir = "\(lab.dir)/restored"
                let port = try PortAllocator.freePort()
                let restored = try await drctl(["restore", "--latest", "--kind", "base", "--to", dir, "--port", String(port)], config: config)
                #expect(restored.status == 0, "\(restored.stdout)\(restored.stderr)")
                let rows = try await PGConnection.withSession(node: "restored", conninfo: "host=127.0.0.1 port=\(port) user=postgres dbname=postgres") { session in
                    try await session.query("SELECT count(*) AS n FROM payload").single().int("n")
                }
                #expect(rows == 200_100, "the base backup plus the archived WAL after it")
                _ = try? await CommandRunner.run(["/usr/lib/postgresql/15/bin/pg_ctl", "-D", dir, "-m", "immediate", "stop"], as: .forPostgres, check: false)

                let requests = s3.requests()
                #expect(requests.contains { $0.query.contains("uploads") }, "multipart uploads were used")
                #expect(requests.filter { $0.verdict != "ok" }.isEmpty, "every request's signature matched botocore's: \(requests.filter { $0.verdict != "ok" }.prefix(2))")

                // Residency: the config says region3 is us-east-1, the bucket reports eu-west-1.
                let misplaced = "\(lab.dir)/misplaced.yaml"
                try s3Config(lab, s3, region3At: "us-east-1", from: original).write(toFile: misplaced, atomically: true, encoding: .utf8)
                let writes = requests.filter { $0.method == "PUT" || $0.method == "POST" }.count
                let refused = try await drctl(["backup", "run"], config: misplaced)
                #expect(refused.status != 0 && refused.stderr.contains("data residency") && refused.stderr.contains("eu-west-1"), "\(refused.stderr)")
                #expect(s3.requests().filter { $0.method == "PUT" || $0.method == "POST" }.count == writes, "nothing was written")

                // A backup killed mid-upload leaves nothing that looks complete: no manifest, no
                // object under its name, only an unfinished multipart upload, which is aborted.
                let killed = try ProcessControl.spawnDaemon(
                    [try DrctlBinary.path(), "backup", "run", "--kind", "base", "--config", config], logFile: "\(lab.dir)/killed-backup.log")
                // Polled tightly: the whole backup takes about a second on loopback.
                var started = false
                for _ in 0..<1500 where !started {
                    started = s3.requests().contains { request in
                        request.method == "PUT" && request.query.contains("partNumber=1") && request.path.contains("base.tar")
                            && !listed.contains { request.path.contains($0.id) }
                    }
                    if !started { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(started, "the killed backup had sent parts")
                kill(killed, SIGKILL)
                _ = await ProcessControl.waitForExit(killed, within: .seconds(10))
                let after = try JSONDecoder().decode([BackupManifest].self, from: Data(try await drctl(["backup", "list", "--json"], config: config).stdout.utf8))
                #expect(after.map(\.id) == listed.map(\.id), "the killed backup is not listed")
                let repository = try BackupRepository(config: try ConfigLoader.load(yaml: try String(contentsOfFile: config, encoding: .utf8), file: config))
                let stray = try await repository.objects.keys(under: "lab/").filter { key in key.contains("-base-") && !listed.contains { key.contains($0.id) } }
                #expect(stray.isEmpty, "no object of the killed backup is visible: \(stray)")
                #expect(try await repository.objects.abandonedUploads(olderThan: .zero).count == 1, "the killed backup's upload is left")
                // `backup prune` shows it in its plan, a dry run leaves it, and it goes once confirmed.
                let young = try await drctl(["backup", "prune", "--dry-run"], config: config)
                #expect(!young.stdout.contains("unfinished upload"), "a day has not passed: \(young.stdout)")
                try await Task.sleep(for: .seconds(1.5))
                let shown = try await drctl(["backup", "prune", "--dry-run", "--abandoned-after", "1s"], config: config)
                #expect(shown.stdout.contains("abort  unfinished upload backups/lab/") && shown.stdout.contains("base.tar"), "\(shown.stdout)")
                #expect(try await repository.objects.abandonedUploads(olderThan: .zero).count == 1, "a dry run aborts nothing")
                let pruned = try await drctl(["backup", "prune", "--yes", "--abandoned-after", "1s"], config: config)
                #expect(pruned.status == 0 && pruned.stdout.contains("aborted the unfinished upload"), "\(pruned.stdout)\(pruned.stderr)")
                #expect(try await repository.objects.abandonedUploads(olderThan: .zero).isEmpty, "aborted for good")

                // A damaged object fails verification (the hash is taken as it streams down).
                let logicalID = try #require(listed.last).id
                let damage = """
                    import boto3, sys
                    s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])
                    s3.put_object(Bucket=sys.argv[5], Key=sys.argv[6], Body=b"not a dump")
                    """
                let key = "backups/lab/\(logicalID)/\(try #require(listed.last).path)"
                _ = try await CommandRunner.run(["python3", "-c", damage, s3.endpoint, s3.region, s3.accessKey, s3.secretKey, Self.bucket, key])
                let verify = try await drctl(["backup", "verify", logicalID], config: config)
                #expect(verify.status != 0 && verify.stdout.contains("damaged"), "\(verify.stdout)\(verify.stderr)")

                // A base backup streams from the bucket straight into tar; one byte flipped is
                // found at the end, and everything unpacked goes.
                let newestBase = try #require(listed.last { $0.kind == .base })
                let flip = """
                    import boto3, sys
                    s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])
                    body = bytearray(s3.get_object(Bucket=sys.argv[5], Key=sys.argv[6])["Body"].read())
                    body[len(body) // 2] ^= 0xff
                    s3.put_object(Bucket=sys.argv[5], Key=sys.argv[6], Body=bytes(body))
                    """
                _ = try await CommandRunner.run(
                    ["python3", "-c", flip, s3.endpoint, s3.region, s3.accessKey, s3.secretKey, Self.bucket, "backups/lab/\(newestBase.id)/\(newestBase.path)"])
                let damagedTarget = "\(lab.dir)/restored-damaged"
                let damagedRestore = try await drctl(
                    ["restore", "--latest", "--kind", "base", "--to", damagedTarget, "--port", String(try PortAllocator.freePort())], config: config)
                #expect(damagedRestore.status != 0 && damagedRestore.stderr.contains("damaged"), "\(damagedRestore.stdout)\(damagedRestore.stderr)")
                let leftBehind = (try? FileManager.default.contentsOfDirectory(atPath: damagedTarget)) ?? []
                #expect(leftBehind.isEmpty, "nothing of the damaged backup is left: \(leftBehind)")
            }
        }

        /// Temporary credentials (a session token, signed) and virtual-host addressing
        /// (`BUCKET.s3.localhost`, which libcurl resolves to loopback), with retention pruning
        /// the bucket: the oldest backup's objects all go, the newest are kept.
        @Test func temporaryCredentialsVirtualHostsAndRetentionOnTheBucket() async throws {
            try await withLab(agents: false) { lab in
                let original = try String(contentsOfFile: lab.configFile, encoding: .utf8)
                let token = "FwoGZXIvYXdzE" + UUID().uuidString.replacing("-", with: "")
                let s3 = try await S3Server.start(directory: "\(lab.dir)/s3", region: "eu-west-1", buckets: [Self.bucket], sessionToken: token)
                defer { Task { try? await s3.stop() } }
                try token.write(toFile: "\(lab.dir)/token", atomically: true, encoding: .utf8)
                try "not-the-token".write(toFile: "\(lab.dir)/stale-token", atomically: true, encoding: .utf8)
                let retention = ["retention:", "  keep_last: 2", "  daily: 0", "  weekly: 0", "  monthly: 0"]
                let config = "\(lab.dir)/s3.yaml", stale = "\(lab.dir)/stale.yaml"
                for (file, tokenFile) in [(config, "token"), (stale, "stale-token")] {
                    try s3Config(
                        lab, s3, region3At: "eu-west-1", from: original, endpoint: "http://s3.localhost:\(s3.port)",
                        s3Lines: [
                            "addressing: virtual", "session_token_file: \(lab.dir)/\(tokenFile)", "server_side_encryption: AES256",
                            "storage_class: STANDARD_IA",
                        ], backupLines: retention
                    ).write(toFile: file, atomically: true, encoding: .utf8)
                }

                let refused = try await drctl(["backup", "run"], config: stale)
                #expect(refused.status != 0 && refused.stderr.contains("session token"), "a wrong token is refused: \(refused.stderr)")
                var ids: [String] = []
                for _ in 0..<3 {
                    let taken = try await drctl(["backup", "run", "--json"], config: config)
                    #expect(taken.status == 0, "\(taken.stdout)\(taken.stderr)")
                    ids += try JSONDecoder().decode([BackupManifest].self, from: Data(taken.stdout.utf8)).map(\.id)
                    try await Task.sleep(for: .seconds(1.1))  // backup IDs are to the second
                }
                #expect(Set(ids).count == 3)
                let pruned = try await drctl(["backup", "prune", "--yes"], config: config)
                #expect(pruned.status == 0 && pruned.stdout.contains("removed \(ids[0])"), "\(pruned.stdout)\(pruned.stderr)")
                let listed = try JSONDecoder().decode([BackupManifest].self, from: Data(try await drctl(["backup", "list", "--json"], config: config).stdout.utf8))
                #expect(listed.map(\.id) == Array(ids.dropFirst()))
                let requests = s3.requests()  // drctl's, before boto3's (path-style) below
                let seen = try await boto3Check(s3, sessionToken: token)
                #expect(!seen.contains(ids[0]) && ids.dropFirst().allSatisfy { seen.contains("\($0) OK") }, "\(seen)")
                let keys = try await BackupRepository(config: try ConfigLoader.load(yaml: try String(contentsOfFile: config, encoding: .utf8), file: config))
                    .objects.keys(under: "lab/")
                #expect(!keys.contains { $0.contains(ids[0]) }, "no object of the pruned backup is left: \(keys)")

                // Every object encrypted at rest; the data files (not the manifests) in the class asked for.
                let script = """
                    import boto3, sys
                    s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4], aws_session_token=sys.argv[6])
                    for o in s3.list_objects_v2(Bucket=sys.argv[5], Prefix="backups/lab/").get("Contents", []):
                        h = s3.head_object(Bucket=sys.argv[5], Key=o["Key"])
                        print(o["Key"], h.get("ServerSideEncryption"), h.get("StorageClass", "STANDARD"))
                    """
                let heads = try await CommandRunner.run(
                    ["python3", "-c", script, s3.endpoint, s3.region, s3.accessKey, s3.secretKey, Self.bucket, token], check: false)
                let lines = heads.stdout.split(separator: "\n")
                #expect(!lines.isEmpty && lines.allSatisfy { $0.contains(" AES256 ") }, "\(heads.stdout)\(heads.stderr)")
                #expect(lines.filter { $0.hasSuffix(".dump AES256 STANDARD_IA") }.count == 2, "\(heads.stdout)")
                #expect(lines.filter { $0.contains("manifest.json") }.allSatisfy { $0.hasSuffix(" STANDARD") }, "\(heads.stdout)")

                let virtualHost = "\(Self.bucket).s3.localhost:\(s3.port)"
                let accepted = requests.filter { $0.verdict == "ok" }
                #expect(accepted.count > 10 && accepted.allSatisfy { $0.host == virtualHost && !$0.path.hasPrefix("/\(Self.bucket)") }, "\(accepted.prefix(3))")
                #expect(requests.filter { $0.verdict != "ok" }.allSatisfy { $0.verdict.contains("session token") }, "only the stale token was refused")
            }
        }
    }
}
