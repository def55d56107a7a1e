/// The stable wire names of the pipeline's jobs. A name is written into every queued job, so it never
/// changes once shipped: to change a job's meaning, add a new name.
public enum PipelineJobName: String, Sendable, CaseIterable {
    /// Parse one inbound provider event and store customer, conversation and message in PostgreSQL.
    case ingestMessage = "ingest-message"
    /// Apply one provider delivery status (sent, delivered, read, failed) to an outbound message.
    case messageStatus = "message-status"
    /// Embed a tenant's help-center passages and catalogue products that have no vector yet.
    case knowledgeEmbed = "kb-embed"
    /// Retrain a tenant's intent model on the base examples plus the tenant's own.
    case trainIntents = "train-intents"
    /// Merge a burst of a customer's messages into one conversational turn.
    case coalesceTurn = "coalesce-turn"
    /// Understand the turn: intents, out-of-scope, sentiment, urgency, entities, language.
    case understandTurn = "understand-turn"
    /// Retrieve passages from the tenant's knowledge base.
    case retrieveContext = "retrieve-context"
    /// Extract order lines against the tenant's catalogue.
    case extractOrder = "extract-order"
    /// Decide the turn's answer: reply, draft for a person, or handoff.
    case decideTurn = "decide-turn"
    /// Summarise a long conversation.
    case summarizeConversation = "summarize-conversation"
    /// Find conversations whose summary is overdue (a trigger was lost) and summarise them.
    case summarizeSweep = "summarize-sweep"
    /// Close conversations idle past their context window, keeping the customer's key facts.
    case expireContexts = "expire-contexts"
    /// Delete raw provider payloads older than the tenant's retention.
    case purgePayloads = "purge-payloads"
}
