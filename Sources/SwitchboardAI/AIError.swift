public import SwitchboardProviders

/// A tenant's AI call that cannot go ahead, and what to do.
public enum AIError: Error, Sendable, CustomStringConvertible, Equatable {
    case configuration(String)
    /// The tenant's monthly budget is spent and its policy is `block`.
    case budgetBlocked(spentCents: Int64, budgetCents: Int64)

    public var description: String {
        switch self {
        case .configuration(let what): what
        case .budgetBlocked(let spent, let budget):
            "the tenant's monthly AI budget is spent (\(spent) of \(budget) cents) and its policy is block; raise it with: switchboard providers budget"
        }
    }
}

/// What a model is asked for: the pipeline's agents, each with its own models.
public enum AgentKind: String, Sendable, Codable, CaseIterable {
    case intent, reply, summary, extraction
}

/// The tiniest structured question, for checking that a model answers (`providers test`, `probe-model`).
public struct ModelProbe: StructuredOutput {
    public let ok: Bool
    public init(ok: Bool) { self.ok = ok }
    public static let schemaName = "probe"
    public static let jsonSchema = #"{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}"#
    /// The question that goes with it.
    public static let messages = [ChatMessage(.user, "Reply with ok set to true.")]
}
