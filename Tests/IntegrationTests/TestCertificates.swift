import DRSystem
import Foundation

/// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with
/// the openssl CLI, for testing TLS against real servers.
struct TestCertificates {
    let dir: String
    var caFile: String { "\(dir)/ca.crt" }
    var serverCert: String { "\(dir)/server.crt" }
    var serverKey: String { "\(dir)/server.key" }
    var clientCert: String { "\(dir)/client.crt" }
    var clientKey: String { "\(dir)/client.key" }

    static func make(in dir: String) async throws -> TestCertificates {
        let certs = TestCertificates(dir: dir)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await CommandRunner.run(
            ["openssl", "req", "-x509"] + key + [
                "-keyout", "\(dir)/ca.key", "-out", certs.caFile,
                "-days", "2", "-subj", "/CN=drctl test CA",
            ])
        try await certs.issue("server", commonName: "127.0.0.1", extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n", key: key)
        try await certs.issue("client", commonName: "drctl-agent", extensions: "extendedKeyUsage=clientAuth\n", key: key)
        return certs
    }

    private func issue(_ name: String, commonName: String, extensions: String, key: [String]) async throws {
        try extensions.write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
        try await CommandRunner.run(["openssl", "req"] + key + ["-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr", "-subj", "/CN=\(commonName)"])
        try await CommandRunner.run([
            "openssl", "x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", caFile, "-CAkey", "\(dir)/ca.key",
            "-CAcreateserial", "-out", "\(dir)/\(name).crt", "-days", "2", "-extfile", "\(dir)/\(name).ext",
        ])
    }
}
