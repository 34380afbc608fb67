import Foundation
import Testing

/// The tiers of the integration suite, for choosing what to run (`make unit`, `make lab`,
/// `make flake-hunt`) and for reading a run's report.
extension Tag {
    /// Starts real servers through the lab code (PostgreSQL, etcd, PowerDNS, agents): seconds
    /// to minutes each, one at a time.
    @Tag static var lab: Self
    /// Needs root: network namespaces and nftables. Skipped, with the reason, otherwise.
    @Tag static var root: Self
    /// A fault campaign judged from what its clients saw.
    @Tag static var chaos: Self
}

extension Trait where Self == ConditionTrait {
    /// Runs only as root (network namespaces, nftables); skipped with that reason otherwise.
    static var needsRoot: Self { .enabled(if: getuid() == 0, "needs root: network namespaces and nftables") }
}
