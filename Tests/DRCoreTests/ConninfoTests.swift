import DRCore
import Testing

@Suite struct ConninfoTests {
    @Test func parsesKeywordForm() throws {
        let c = try Conninfo.parse("host=10.0.0.1 port=6432 user=drctl dbname='my db' application_name=x\\ y")
        #expect(c.host == "10.0.0.1")
        #expect(c.port == 6432)
        #expect(c.parameters["dbname"] == "my db")
        #expect(c.parameters["application_name"] == "x y")
        #expect(!c.hasPassword)
    }

    @Test func defaultsHostAndPort() throws {
        let c = try Conninfo.parse("dbname=postgres")
        #expect(c.host == "localhost")
        #expect(c.port == 5432)
    }

    @Test func parsesURIWithMultipleHosts() throws {
        let c = try Conninfo.parse("postgresql://drctl@db1.example:5433,[::1]:5434/app?sslmode=require&connect_timeout=3")
        #expect(c.host == "db1.example")
        #expect(c.port == 5433)
        #expect(c.parameters["host"] == "db1.example,::1")
        #expect(c.parameters["user"] == "drctl")
        #expect(c.parameters["dbname"] == "app")
        #expect(c.parameters["sslmode"] == "require")
    }

    @Test func findsPasswordsInBothForms() throws {
        #expect(try Conninfo.parse("host=a password=s3cret").hasPassword)
        #expect(try Conninfo.parse("postgres://u:s3cret@a/db").hasPassword)
        #expect(try Conninfo.parse("postgres://u%3A@a/db").hasPassword == false)
    }

    @Test func redactsPasswords() {
        let redacted = Conninfo.redacted("host=a user=u password='s3 cret'")
        #expect(!redacted.contains("s3"))
        #expect(redacted.contains("password=********"))
        #expect(Conninfo.redacted("postgresql://u:topsecret@h/db").contains("topsecret") == false)
        #expect(Conninfo.redacted("host=a user=u") == "host=a user=u")
    }

    @Test func rejectsMalformedStrings() {
        #expect(throws: Conninfo.ParseError.unterminatedQuote) { try Conninfo.parse("host='a") }
        #expect(throws: Conninfo.ParseError.missingEquals(near: "host")) { try Conninfo.parse("host a") }
        #expect(throws: Conninfo.ParseError.self) { try Conninfo.parse("postgres://h:port/db") }
    }
}
