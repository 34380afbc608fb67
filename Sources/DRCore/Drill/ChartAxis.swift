/// A seconds axis for the reports' SVG charts: it ends a little past the largest value and
/// is ticked at round steps (1, 2 or 5 × 10ⁿ), so that a failover taking 3 s is drawn over
/// most of the width rather than squeezed into the first tenth of a 30 s objective.
public struct ChartAxis: Sendable, Equatable {
    /// Where the axis ends (a multiple of `step`).
    public var end: Double
    public var step: Double

    /// An axis that shows `largest` with room to spare, with about `ticks` ticks.
    public init(largest: Double, ticks: Int = 6) {
        let span = max(largest, 0.001) * 1.05
        let rough = span / Double(max(ticks, 1))
        var magnitude = 1.0
        while magnitude * 10 <= rough { magnitude *= 10 }
        while magnitude > rough { magnitude /= 10 }
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? magnitude * 10
        self.step = step
        end = (span / step).rounded(.up) * step
    }

    /// The tick values from 0 to `end`.
    public var ticks: [Double] {
        let count = Int((end / step).rounded())
        return (0...count).map { Double($0) * step }
    }

    /// A tick's label: no trailing zeros (`0.5`, `2`, `10`).
    public static func label(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
