import DRCore
import Testing

@Suite struct ChartAxisTests {
    @Test(arguments: [
        (3.2, 4.0, 1.0, ["0", "1", "2", "3", "4"]),
        (0.27, 0.3, 0.05, ["0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3"]),
        (28.0, 30.0, 5.0, ["0", "5", "10", "15", "20", "25", "30"]),
        (100.0, 120.0, 20.0, ["0", "20", "40", "60", "80", "100", "120"]),
        (0.0, 0.0012, 0.0002, nil),
    ])
    func endsJustPastTheLargestValueAtRoundSteps(_ largest: Double, _ end: Double, _ step: Double, _ labels: [String]?) {
        let axis = ChartAxis(largest: largest)
        #expect(abs(axis.end - end) < 1e-9 && abs(axis.step - step) < 1e-9, "\(axis)")
        #expect(axis.end >= largest)
        if let labels { #expect(axis.ticks.map(ChartAxis.label) == labels) }
    }
}
