import DRBackup
import DRCore
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// AWS's default credential chain (issue 27), each source against a local stand-in that
    /// checks its requests as AWS documents them, and the keys it yields accepted by the S3
    /// gate, which recomputes every signature (session token included) with botocore.
    @Suite("S3 credentials from AWS's default chain", .timeLimit(.minutes(2)))
    struct S3CredentialChainTests {
        static let bucket = "drctl-chain"

        @Test func aSharedProfileWebIdentityAndTheInstanceRoleEachSignAcceptedRequests() async throws {
            let dir = "/tmp/drctl-chain-\(UUID().uuidString.prefix(8).lowercased())"
            try FileManager.default.createDirectory(atPath: "\(dir)/home", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let token = "FwoGZXIvYXdzE" + UUID().uuidString.replacing("-", with: "")
            let s3 = try await S3Server.start(directory: "\(dir)/s3", region: "eu-west-1", buckets: [Self.bucket], sessionToken: token)
            defer { Task { try? await s3.stop() } }
            let webToken = "eyJhbGciOiJSUzI1NiJ9." + UUID().uuidString
            let aws = try await AWSStandIn.start(
                directory: "\(dir)/aws", accessKey: s3.accessKey, secretKey: s3.secretKey, sessionToken: token, webIdentityToken: webToken,
                role: "drctl-backups")
            defer { Task { try? await aws.stop() } }

            func config(_ s3Lines: [String]) throws -> String {
                let file = "\(dir)/drctl-\(UUID().uuidString.prefix(6)).yaml"
                try """
                cluster: chain
                objectives: {rto: 60s, rpo: 10s}
                coordination: {endpoints: ["http://127.0.0.1:1"], lease_ttl: 10s}
                regions:
                  - name: here
                    role: primary
                    provider_region: eu-west-1
                    nodes:
                      - {name: pg, conninfo: "host=127.0.0.1 port=1 user=postgres", data_dir: /nonexistent}
                backup:
                  repository: s3://\(Self.bucket)/backups
                  repository_region: here
                  allowed_regions: [here]
                  s3:
                    endpoint: \(s3.endpoint)
                    addressing: path
                \(s3Lines.map { "    \($0)" }.joined(separator: "\n"))
                """.write(toFile: file, atomically: true, encoding: .utf8)
                return file
            }
            let segment = "\(dir)/segment"
            try Data(repeating: 5, count: 8192).write(to: URL(fileURLWithPath: segment))
            /// wal-push then wal-fetch of a fresh name, with exactly `environment` (and PATH).
            func roundTrip(_ name: String, config: String, environment: [String: String]) async throws -> CommandRunner.Output {
                let env = ["PATH=/usr/bin:/bin", "HOME=\(dir)/home"] + environment.map { "\($0.key)=\($0.value)" }
                let push = try await CommandRunner.run(["/usr/bin/env", "-i"] + env + [try DrctlBinary.path(), "wal-push", segment, name, "--config", config], check: false)
                guard push.status == 0 else { return push }
                return try await CommandRunner.run(
                    ["/usr/bin/env", "-i"] + env + [try DrctlBinary.path(), "wal-fetch", name, "\(dir)/\(name)", "--config", config], check: false)
            }

            // A profile of the shared credentials file, named in the config.
            try """
            [default]
            aws_access_key_id = AKIDNOTTHISONE
            aws_secret_access_key = wrong
            [backups]
            aws_access_key_id = \(s3.accessKey)
            aws_secret_access_key = \(s3.secretKey)
            aws_session_token = \(token)
            """.write(toFile: "\(dir)/credentials", atomically: true, encoding: .utf8)
            let profile = try await roundTrip(
                "000000010000000000000001", config: try config(["profile: backups"]),
                environment: ["AWS_SHARED_CREDENTIALS_FILE": "\(dir)/credentials", "AWS_EC2_METADATA_DISABLED": "true"])
            #expect(profile.status == 0, "profile: \(profile.stderr)")

            // Web identity: the token file exchanged with STS.
            try webToken.write(toFile: "\(dir)/web-token", atomically: true, encoding: .utf8)
            let plain = try config([])
            let web = try await roundTrip(
                "000000010000000000000002", config: plain,
                environment: [
                    "AWS_WEB_IDENTITY_TOKEN_FILE": "\(dir)/web-token", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/drctl-backups",
                    "AWS_ENDPOINT_URL_STS": aws.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                ])
            #expect(web.status == 0, "web identity: \(web.stderr)")

            // The instance role through IMDSv2.
            let imds = try await roundTrip("000000010000000000000003", config: plain, environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": aws.endpoint])
            #expect(imds.status == 0, "IMDSv2: \(imds.stderr)")

            // Nothing anywhere: a refusal that names what was tried.
            let none = try await roundTrip("000000010000000000000004", config: plain, environment: ["AWS_EC2_METADATA_DISABLED": "true"])
            #expect(none.status != 0 && none.stderr.contains("no credentials in AWS's default chain"), "\(none.stderr)")

            #expect(aws.verdicts().allSatisfy { $0 == "ok" } && aws.verdicts().count >= 4, "every STS and IMDS request as AWS documents it: \(aws.verdicts())")
            let refused = s3.requests().filter { $0.verdict != "ok" }
            #expect(refused.isEmpty, "every S3 request signed with the chain's keys and token: \(refused.prefix(2))")
            for name in ["000000010000000000000001", "000000010000000000000002", "000000010000000000000003"] {
                #expect(FileManager.default.contents(atPath: "\(dir)/\(name)") == Data(repeating: 5, count: 8192), "\(name)")
            }
        }
    }
}
