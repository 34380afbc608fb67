/// `hooks:` — local commands the agent runs for setups that route clients with a VIP,
/// pgbouncer or a service mesh rather than DNS: `on_role_change` when the node's role
/// changes, `on_start` when the agent starts and `on_stop` when it stops, each with the
/// node's role.
///
/// Each runs as `/bin/sh -c COMMAND drctl-hook EVENT ROLE CLUSTER` (so `$1`–`$3` are
/// Patroni's callback arguments: a Patroni callback script is `on_role_change: SCRIPT "$@"`)
/// with `DRCTL_EVENT`, `DRCTL_ROLE`, `DRCTL_NODE`, `DRCTL_CLUSTER` and `DRCTL_TERM` set,
/// under `timeout`, one at a time per node (see `RoleHooks`).
public struct HooksConfig: Sendable, Equatable {
    public enum Event: String, Sendable, Equatable, CaseIterable, Codable {
        case onStart = "on_start", onStop = "on_stop", onRoleChange = "on_role_change"
    }

    public var onStart: String?
    public var onStop: String?
    public var onRoleChange: String?
    /// How long a hook may run before its process group is killed.
    public var timeout: Duration

    public init(onStart: String? = nil, onStop: String? = nil, onRoleChange: String? = nil, timeout: Duration = .seconds(30)) {
        self.onStart = onStart
        self.onStop = onStop
        self.onRoleChange = onRoleChange
        self.timeout = timeout
    }

    /// The command configured for `event`, if any.
    public func command(for event: Event) -> String? {
        switch event {
        case .onStart: onStart
        case .onStop: onStop
        case .onRoleChange: onRoleChange
        }
    }

    static func parse(_ field: YAMLField) -> HooksConfig? {
        guard field.isPresent else { return HooksConfig() }
        guard let object = field.object(keys: ConfigKeys.hooks) else { return nil }
        var config = HooksConfig()
        var valid = true
        func command(_ key: String) -> String? {
            guard object.has(key) else { return nil }
            let text = object[key].string(expected: "a shell command, run by /bin/sh -c")
            if text == nil { valid = false }
            return text
        }
        config.onStart = command("on_start")
        config.onStop = command("on_stop")
        config.onRoleChange = command("on_role_change")
        guard let timeout = object["timeout"].duration(default: .seconds(30), in: .seconds(1)...(.seconds(600))) else { return nil }
        config.timeout = timeout
        return valid ? config : nil
    }
}
