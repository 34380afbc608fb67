/// The one decision function (docs/design.md, "The HA loop"): from one agent's snapshot, the policy and the
/// time, the actions to take. Pure: the same inputs always give the same actions.
public func decide(_ view: ClusterView, policy: FailoverPolicy, now: AgentInstant) -> Decision {
    let input = RuleInput(view: view, policy: policy, now: now)
    for rule in FailoverRule.table {
        if let actions = rule.evaluate(input) { return Decision(rule: rule.id, actions: actions) }
    }
    // The last row always applies; this only satisfies the compiler.
    return Decision(rule: "none", actions: [])
}

/// The actions, and which row of the table chose them (for logs and tests).
public struct Decision: Sendable, Equatable {
    public var rule: String
    public var actions: [Action]
}
