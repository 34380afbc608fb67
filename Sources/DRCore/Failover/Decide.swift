/// The one decision function (docs/design.md, "The HA loop"): from one agent's snapshot, the policy and the
/// time, the actions to take. Pure: the same inputs always give the same actions.
public func decide(_ view: ClusterView, policy: FailoverPolicy, now: AgentInstant) -> Decision {
    let input = RuleInput(view: view, policy: policy, now: now)
    var decision = Decision(rule: "none", actions: [])  // the last row always applies
    for rule in FailoverRule.table {
        if let actions = rule.evaluate(input) {
            decision = Decision(rule: rule.id, actions: actions)
            break
        }
    }
    // Last: a standing order's action runs even after a failed step (it has no term).
    for order in StandingOrder.all { decision.actions += order.evaluate(input, decision.actions) }
    return decision
}

/// The actions, and which row of the table chose them (for logs and tests).
public struct Decision: Sendable, Equatable {
    public var rule: String
    public var actions: [Action]
}
