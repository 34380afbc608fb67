/// An order that stands beside whichever row of the table decides: its actions are added to
/// that row's. For invariants the agent keeps every loop, whatever else it does — they must
/// not take a row's place (the lease would go unrenewed that loop) nor depend on which row
/// won.
public struct StandingOrder: Sendable {
    public var id: String
    /// One sentence an operator can read in `drctl debug rules`.
    public var summary: String
    /// The actions to add to `deciding`, the row's own.
    let evaluate: @Sendable (RuleInput, _ deciding: [Action]) -> [Action]
}

extension StandingOrder {
    /// The orders, in the order their actions are added.
    public static let all: [StandingOrder] = [
        StandingOrder(
            id: "restart-guard",
            summary:
                "A running primary's data directory carries `standby.signal` (ignored while it runs), so a start by hand, by the host's boot or after a crash comes back read-only until the agent makes it writable again under a live lease. Not beside a fence, which writes it itself."
        ) { input, deciding in
            guard input.local.state == .primary, !input.local.restartGuarded else { return [] }
            if deciding.contains(where: { if case .fence = $0 { true } else { false } }) { return [] }
            return [.guardRestart(node: input.me)]
        }
    ]
}
