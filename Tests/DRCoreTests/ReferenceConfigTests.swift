import DRCore
import Foundation
import Testing

/// `examples/drctl.yaml`, the reference configuration operators copy: it must load without
/// a warning, fit its own RTO, and mention every key the loader accepts — a key added to
/// the loader and not explained there fails here.
@Suite struct ReferenceConfigTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/drctl.yaml").path

    @Test func loadsWithoutAWarningAndFitsItsRTO() throws {
        let config = try ConfigLoader.load(yaml: try String(contentsOfFile: Self.path, encoding: .utf8), file: Self.path)
        #expect(ConfigWarning.all(for: config).map(\.message) == [])
        #expect(RTOBudget.compute(for: config).fits)
        #expect(config.regions.map(\.role) == [.primary, .hotStandby, .cold])
    }

    @Test func mentionsEveryKeyTheLoaderAccepts() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let words = Set(text.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))
        for (section, keys) in ConfigKeys.all {
            for key in keys.sorted() {
                let explained = words.contains(key)
                #expect(explained, "\(section.isEmpty ? "top level" : section): \(key) is not explained in examples/drctl.yaml")
            }
        }
    }
}
