import DRCore
import Testing

@Suite struct CloneProgressTests {
    @Test(arguments: [
        (
            CloneProgress(source: .primary, phase: .copying, bytes: 1_288_490_189, expected: 3_650_722_202, elapsed: .seconds(32)),
            "from primary: copying 1.2 GiB of ~3.4 GiB (35%), 38.4 MiB/s, 32s"
        ),
        (CloneProgress(source: .repository, phase: .restoring, bytes: 0, expected: nil, elapsed: .zero), "from repository: restoring 0 B, 0s"),
        // An estimate overrun (WAL copied along) never reads past 100%.
        (
            CloneProgress(source: .primary, phase: .copying, bytes: 5 << 20, expected: 4 << 20, elapsed: .milliseconds(2500)),
            "from primary: copying 5.0 MiB of ~4.0 MiB (100%), 2.0 MiB/s, 3s"
        ),
        (CloneProgress(source: .repository, phase: .restoring, bytes: 900, expected: 0, elapsed: .milliseconds(400)), "from repository: restoring 900 B, 0s"),
    ])
    func reads(_ progress: CloneProgress, _ expected: String) {
        #expect(progress.description == expected)
    }
}
