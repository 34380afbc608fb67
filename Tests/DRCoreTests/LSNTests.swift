import DRCore
import Testing

@Suite struct LSNTests {
    @Test(arguments: [
        ("0/0", UInt64(0)),
        ("16/B374D848", UInt64(0x16_B374_D848)),
        ("0/3000060", UInt64(0x300_0060)),
        ("FFFFFFFF/FFFFFFFF", UInt64.max),
        ("a/b", UInt64(0xA_0000_000B)),
    ])
    func parsesPostgresText(text: String, value: UInt64) throws {
        let lsn = try #require(LSN(text))
        #expect(lsn.value == value)
        #expect(LSN(lsn.description) == lsn, "description round-trips")
    }

    @Test(arguments: ["", "/", "16/", "/B374D848", "16B374D848", "16/B374D848/1", "G/0", "123456789/0", "0/-1", " 0/1", "0x1/2"])
    func rejectsMalformedText(text: String) {
        #expect(LSN(text) == nil)
    }

    @Test func printsUppercaseWithoutPadding() {
        #expect(LSN(0x16_B374_D848).description == "16/B374D848")
        #expect(LSN.zero.description == "0/0")
    }

    @Test func comparesAndSubtracts() throws {
        let a = try #require(LSN("1/0")), b = try #require(LSN("0/FFFFFFFF"))
        #expect(b < a)
        #expect(a - b == 1)
        #expect(b - a == -1)
        #expect(a.bytesAhead(of: b) == 1)
        #expect(b.bytesAhead(of: a) == 0, "a node ahead is not negatively behind")
        #expect(LSN(100 * 1024 * 1024).bytesAhead(of: .zero) == 104_857_600)
    }
}
