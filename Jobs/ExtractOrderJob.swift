public import FoundationEssentials
public import Logging
public import SwitchboardQueue
import Crypto
import SwitchboardOrders
import SwitchboardConversations
import SwitchboardPostgres
import SwitchboardStore

/// `extract-order`: turns a customer's turn (its stored messages) into an order draft against the tenant's catalogue.
/// A text turn is parsed (``OrderExtractor``); a WhatsApp catalogue `order` message maps to exact lines. One draft
/// per conversation while it is open: a later turn amends it (the draft's lines are the starting point, so "make it
/// 6" or "forget the onions" change them). Idempotent: each turn is recorded with the order it went into, so a re-run
/// or a duplicate enqueue changes nothing. Runs under a per-conversation lock and writes through its fence.
public struct ExtractOrder: JobParameters, JobLogMetadata {
    public static let jobName = PipelineJobName.extractOrder.rawValue
    public static var queue: String { "pipeline" }

    public let tenant: UUID
    public let conversation: UUID
    /// The turn's messages (any order; they are read in the order they were sent).
    public let messages: [UUID]
    /// Names the turn; by default derived from its messages, so the same messages are the same turn.
    public let turn: String
    /// The pipeline's turn (`conversation_turns`) this extraction is for, if any: the result is stored on it and handed
    /// to `decide-turn` (the join).
    public let turnID: UUID?

    public init(tenant: UUID, conversation: UUID, messages: [UUID], turn: String? = nil, turnID: UUID? = nil) {
        self.tenant = tenant
        self.conversation = conversation
        self.messages = messages
        self.turn = turn ?? Self.turnKey(messages)
        self.turnID = turnID
    }

    /// "msgs:" and the SHA-256 of the sorted message ids.
    public static func turnKey(_ messages: [UUID]) -> String {
        let joined = messages.map { $0.uuidString.lowercased() }.sorted().joined(separator: ",")
        let hex = Array("0123456789abcdef")
        return "msgs:" + String(SHA256.hash(data: Array(joined.utf8)).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] })
    }

    public var lockKey: String? { "order:\(conversation)" }
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "conversation": "\(conversation)"] }

    public var enqueueOptions: JobOptions {
        var options = JobOptions()
        options.unique = UniqueOptions(key: "extract-order:\(tenant):\(turn)", mode: .whileQueued)
        return options
    }
}

struct ExtractOrderStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    /// What a run did, for logs and tests.
    enum Outcome: Equatable, Sendable {
        case alreadyApplied(UUID)
        case notAnOrder
        case nothingMatched(unmatched: Int)
        case wrote(UUID, amended: Bool)

        /// As stored on the turn (`order_outcome`).
        var name: String {
            switch self {
            case .alreadyApplied: "already-applied"
            case .notAnOrder: "not-an-order"
            case .nothingMatched: "nothing-matched"
            case .wrote: "wrote"
            }
        }

        var order: UUID? {
            switch self {
            case .alreadyApplied(let id), .wrote(let id, _): id
            case .notAnOrder, .nothingMatched: nil
            }
        }
    }

    func run(_ p: ExtractOrder, context: JobContext) async throws {
        let started = Date()
        let outcome = try await extract(p, context: context)
        if let turn = p.turnID {
            try await pipeline.db.withTenant(p.tenant) { conn in
                try TurnStore.saveOrder(outcome.order, outcome: outcome.name, turn: turn, conn: conn)
                try TurnStore.recordStage("extract", StageRun(context, startedAt: started), turn: turn, conn: conn)
            }
            try context.setJoinResult(outcome.name)
        }
        switch outcome {
        case .alreadyApplied(let id): context.logger.info("turn already applied", metadata: ["order": "\(id)"])
        case .notAnOrder: context.logger.info("turn is not an order")
        case .nothingMatched(let n): context.logger.info("no products extracted", metadata: ["unmatched": "\(n)"])
        case .wrote(let id, let amended): context.logger.info(amended ? "order draft amended" : "order draft created", metadata: ["order": "\(id)"])
        }
    }

    func extract(_ p: ExtractOrder, context: JobContext) async throws -> Outcome {
        struct Stored: Sendable {
            let type: String
            let text: String?
            let media: String?
        }
        let db = pipeline.db
        let (messages, draft, applied) = try await db.withTenant(p.tenant) { conn -> ([Stored], StoredOrder?, UUID?) in
            if let applied = try OrderStore.appliedOrder(turnKey: p.turn, conn: conn) { return ([], nil, applied) }
            let rows = try conn.query(
                """
                SELECT type, text, media::text AS media FROM messages
                WHERE id = ANY($1::uuid[]) AND conversation_id = $2 AND direction = 'inbound'
                ORDER BY coalesce(sent_at, created_at), created_at, id
                """, [.textArray(p.messages.map(\.uuidString)), .uuid(p.conversation)]
            ).map { Stored(type: try $0.decode("type"), text: try $0.decodeIfPresent("text"), media: try $0.decodeIfPresent("media")) }
            return (rows, try OrderStore.openDraft(conversation: p.conversation, conn: conn), nil)
        }
        if let applied { return .alreadyApplied(applied) }
        guard !messages.isEmpty else {
            throw DoNotRetry("none of the turn's \(p.messages.count) messages is stored in conversation \(p.conversation)")
        }
        var existing = draft?.lines ?? []
        let catalogueOrders = messages.compactMap { $0.type == "order" ? $0.media.flatMap { try? CatalogueOrder.decode(json: $0) } : nil }
        let source = catalogueOrders.isEmpty ? "text" : "catalog"
        let currency = catalogueOrders.compactMap(\.currency).first
        if !catalogueOrders.isEmpty {
            let index = try await pipeline.orders.catalog(tenant: p.tenant)
            for order in catalogueOrders { existing += order.lines(in: index) }
        }
        // The customers' texts, then any note a catalogue order carries.
        let texts = (messages.compactMap { $0.type == "order" ? nil : $0.text } + catalogueOrders.compactMap(\.text)).filter { !$0.isEmpty }
        var extraction = try await pipeline.orders.extract(tenant: p.tenant, messages: texts, amending: existing)
        if source == "catalog" {
            extraction = OrderExtraction(isOrder: true, lines: extraction.lines, unmatched: extraction.unmatched)
        }
        guard extraction.isOrder else { return .notAnOrder }
        let (result, orderSource, orderCurrency) = (extraction, source, currency)
        if extraction.lines.isEmpty && draft == nil { return .nothingMatched(unmatched: extraction.unmatched.count) }
        let id = try await db.withTenant(p.tenant, fencedBy: context) { conn -> UUID in
            if let applied = try OrderStore.appliedOrder(turnKey: p.turn, conn: conn) { return applied }
            let current = try OrderStore.openDraft(conversation: p.conversation, conn: conn, lock: true)
            guard current?.id == draft?.id, current?.version == draft?.version else {
                throw OrderDraftChanged()
            }
            return try OrderStore.write(
                result, over: current, tenant: p.tenant, conversation: p.conversation, turnKey: p.turn, messageIDs: p.messages,
                source: orderSource, currency: orderCurrency, conn: conn)
        }
        return .wrote(id, amended: draft != nil)
    }
}

/// The open draft changed between reading it and writing over it (a person edited it): the job retries and reads
/// it again.
struct OrderDraftChanged: Error, CustomStringConvertible {
    var description: String { "the order draft changed while the turn was read; retrying on the new version" }
}
