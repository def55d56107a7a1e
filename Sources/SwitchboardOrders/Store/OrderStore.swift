public import Foundation
public import SwitchboardPostgres
import SwitchboardStore

/// What an order command could not do, and what to do instead.
public enum OrderStoreError: Error, CustomStringConvertible, Equatable {
    case notFound(UUID)
    case decided(UUID, OrderStatus)
    case ambiguousLines(UUID, [Int])
    case empty(UUID)
    case noSuchLine(UUID, Int, count: Int)
    case unknownSKU(String)
    case badQuantity

    public var description: String {
        switch self {
        case .notFound(let id): "no order \(id); list them with: switchboard orders list"
        case .decided(let id, let status): "order \(id) is already \(status.rawValue); only PENDING and REVIEW orders change"
        case .ambiguousLines(let id, let lines):
            "order \(id) has ambiguous line\(lines.count == 1 ? "" : "s") \(lines.map(String.init).joined(separator: ", ")); "
                + "choose the product first: switchboard orders set-line \(id) LINE --sku SKU"
        case .empty(let id): "order \(id) has no lines to confirm; reject it or set a line"
        case .noSuchLine(let id, let line, let count): "order \(id) has no line \(line) (it has \(count)); see: switchboard orders show \(id)"
        case .unknownSKU(let sku): "no active product with SKU \(sku) in this tenant's catalogue; see: switchboard catalog match"
        case .badQuantity: "the quantity must be a number above 0"
        }
    }
}

/// Orders in PostgreSQL: drafts written by the extract-order job (inside its fenced transaction), and the
/// reviewing person's commands (list, show, confirm, reject, set a line).
public struct OrderStore: Sendable {
    public let db: PostgresClient

    public init(db: PostgresClient) { self.db = db }

    // MARK: Inside a caller's transaction

    /// The order a turn was already applied to, if it was.
    public static func appliedOrder(turnKey: String, conn: PostgresConnection) throws -> UUID? {
        try conn.query("SELECT order_id FROM order_sources WHERE turn_key = $1", [.text(turnKey)]).first?.decode("order_id")
    }

    /// Whether the conversation has an open draft (one indexed lookup; ``openDraft(conversation:conn:lock:)`` loads it).
    public static func hasOpenDraft(tenant: UUID, conversation: UUID, conn: PostgresConnection) throws -> Bool {
        try conn.query(
            "SELECT EXISTS (SELECT 1 FROM orders WHERE tenant_id = $1 AND conversation_id = $2 AND status IN ('PENDING', 'REVIEW')) AS open",
            [.uuid(tenant), .uuid(conversation)]
        ).first?.decode("open", as: Bool.self) ?? false
    }

    /// The conversation's open draft (PENDING or REVIEW), locked for update when `lock`.
    public static func openDraft(conversation: UUID, conn: PostgresConnection, lock: Bool = false) throws -> StoredOrder? {
        let rows = try conn.query(
            "SELECT id FROM orders WHERE conversation_id = $1 AND status IN ('PENDING', 'REVIEW')" + (lock ? " FOR UPDATE" : ""),
            [.uuid(conversation)])
        guard let id: UUID = try rows.first?.decode("id") else { return nil }
        return try load(id: id, conn: conn)
    }

    /// Writes `extraction` as a new order, or over `draft` (its lines replaced, version bumped), and records the turn.
    @discardableResult
    public static func write(
        _ extraction: OrderExtraction, over draft: StoredOrder?, tenant: UUID, conversation: UUID?, turnKey: String, messageIDs: [UUID],
        source: String, currency: String? = nil, conn: PostgresConnection
    ) throws -> UUID {
        let status: OrderStatus = extraction.requiresReview ? .review : .pending
        let warnings = try json(extraction.warnings.map(\.description))
        let unmatched = try json(extraction.unmatched)
        let id: UUID
        if let draft {
            id = draft.id
            try conn.execute(
                """
                UPDATE orders SET status = $2, requires_review = $3, confidence = $4, is_valid = $5, total = $6::numeric,
                    warnings = $7, unmatched = $8, currency = coalesce($9, currency), version = version + 1, updated_at = now()
                WHERE id = $1
                """,
                [
                    .uuid(id), .text(status.rawValue), .bool(extraction.requiresReview), .double(extraction.confidence), .bool(extraction.isValid),
                    .text(money(extraction.totalCents)), .jsonb(warnings), .jsonb(unmatched), currency.map(PostgresValue.text) ?? .null,
                ])
        } else {
            id = try conn.query(
                """
                INSERT INTO orders (tenant_id, conversation_id, status, requires_review, confidence, is_valid, total, warnings, unmatched,
                                    source, currency)
                VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8, $9, $10, $11) RETURNING id
                """,
                [
                    .uuid(tenant), conversation.map(PostgresValue.uuid) ?? .null, .text(status.rawValue), .bool(extraction.requiresReview),
                    .double(extraction.confidence), .bool(extraction.isValid), .text(money(extraction.totalCents)), .jsonb(warnings),
                    .jsonb(unmatched), .text(source), currency.map(PostgresValue.text) ?? .null,
                ]
            ).first!.decode("id")
        }
        try writeLines(extraction.lines, order: id, tenant: tenant, conn: conn)
        try conn.execute(
            "INSERT INTO order_sources (tenant_id, turn_key, order_id, message_ids) VALUES ($1, $2, $3, $4::uuid[])",
            [.uuid(tenant), .text(turnKey), .uuid(id), .textArray(messageIDs.map(\.uuidString))])
        return id
    }

    /// Replaces an order's lines with `lines`: one INSERT over a JSON array of rows.
    static func writeLines(_ lines: [OrderLine], order: UUID, tenant: UUID, conn: PostgresConnection) throws {
        try conn.execute("DELETE FROM order_lines WHERE order_id = $1", [.uuid(order)])
        guard !lines.isEmpty else { return }
        try conn.execute(
            """
            INSERT INTO order_lines (tenant_id, order_id, position, product_id, sku, name, customer_text, quantity, unit, unit_price,
                                     line_total, confidence, match, candidates)
            SELECT $1, $2, l.position, l.product_id, l.sku, l.name, l.customer_text, l.quantity, l.unit, l.unit_price, l.line_total,
                   l.confidence, l.match, coalesce(l.candidates, '{}')
            FROM jsonb_to_recordset($3::jsonb) AS l(position integer, product_id uuid, sku text, name text, customer_text text,
                 quantity numeric, unit text, unit_price numeric, line_total numeric, confidence real, match text, candidates text[])
            """, [.uuid(tenant), .uuid(order), .jsonb(try linesJSON(lines))])
    }

    private static func linesJSON(_ lines: [OrderLine]) throws -> String {
        struct Row: Encodable {
            let position: Int
            let product_id: UUID?
            let sku: String?
            let name: String
            let customer_text: String
            let quantity: String
            let unit: String?
            let unit_price: String?
            let line_total: String?
            let confidence: Double
            let match: String
            let candidates: [String]
        }
        return try json(
            lines.enumerated().map { n, l in
                Row(
                    position: n + 1, product_id: l.productID, sku: l.sku, name: l.name, customer_text: l.text, quantity: quantityText(l.quantity),
                    unit: l.unit, unit_price: l.unitPriceCents.map(money), line_total: l.totalCents.map(money),
                    confidence: min(1, max(0, l.confidence)), match: l.match.rawValue, candidates: l.candidates)
            })
    }

    /// An order with its lines and sources.
    public static func load(id: UUID, conn: PostgresConnection) throws -> StoredOrder? {
        try load(ids: [id], conn: conn).first
    }

    /// Orders with their lines and sources, in the order of `ids` (missing ones left out): three queries however many.
    public static func load(ids: [UUID], conn: PostgresConnection) throws -> [StoredOrder] {
        guard !ids.isEmpty else { return [] }
        let idArray = PostgresValue.textArray(ids.map(\.uuidString))
        var lines: [UUID: [OrderLine]] = [:]
        for l in try conn.query(
            """
            SELECT order_id, product_id, sku, name, customer_text, quantity, unit, unit_price, confidence::float8 AS confidence, match, candidates
            FROM order_lines WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, position
            """, [idArray])
        {
            lines[try l.decode("order_id"), default: []].append(
                OrderLine(
                    sku: try l.decodeIfPresent("sku"), productID: try l.decodeIfPresent("product_id"), name: try l.decode("name"),
                    text: try l.decode("customer_text"), quantity: try l.decode("quantity"), unit: try l.decodeIfPresent("unit"),
                    unitPriceCents: try l.decodeIfPresent("unit_price", as: Double.self).map { Int(($0 * 100).rounded()) },
                    confidence: try l.decode("confidence"), match: MatchKind(rawValue: try l.decode("match")) ?? .exact,
                    candidates: try l.decode("candidates")))
        }
        var sources: [UUID: [StoredOrder.Source]] = [:]
        for s in try conn.query(
            """
            SELECT order_id, turn_key, message_ids::text[] AS message_ids, applied_at FROM order_sources
            WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, applied_at, turn_key
            """, [idArray])
        {
            sources[try s.decode("order_id"), default: []].append(
                StoredOrder.Source(
                    turnKey: try s.decode("turn_key"),
                    messageIDs: (try s.decode("message_ids", as: [String].self)).compactMap(UUID.init(uuidString:)),
                    appliedAt: try s.decode("applied_at")))
        }
        var orders: [UUID: StoredOrder] = [:]
        for row in try conn.query(
            """
            SELECT id, tenant_id, conversation_id, status, requires_review, confidence::float8 AS confidence, is_valid, total, currency,
                   warnings::text AS warnings, unmatched::text AS unmatched, source, version, created_at, updated_at, decided_at, decided_by
            FROM orders WHERE id = ANY($1::uuid[])
            """, [idArray])
        {
            let id: UUID = try row.decode("id")
            orders[id] = StoredOrder(
                id: id, tenantID: try row.decode("tenant_id"), conversationID: try row.decodeIfPresent("conversation_id"),
                status: OrderStatus(rawValue: try row.decode("status")) ?? .review, requiresReview: try row.decode("requires_review"),
                confidence: try row.decode("confidence"), isValid: try row.decode("is_valid"),
                totalCents: Int((try row.decode("total", as: Double.self) * 100).rounded()), currency: try row.decodeIfPresent("currency"),
                warnings: (try? JSONDecoder().decode([String].self, from: Data((try row.decode("warnings", as: String.self)).utf8))) ?? [],
                unmatched: (try? JSONDecoder().decode([UnmatchedItem].self, from: Data((try row.decode("unmatched", as: String.self)).utf8))) ?? [],
                source: try row.decode("source"), version: Int(try row.decode("version", as: Int64.self)), createdAt: try row.decode("created_at"),
                updatedAt: try row.decode("updated_at"), decidedAt: try row.decodeIfPresent("decided_at"),
                decidedBy: try row.decodeIfPresent("decided_by"), lines: lines[id] ?? [], sources: sources[id] ?? [])
        }
        return ids.compactMap { orders[$0] }
    }

    // MARK: A person's commands (operator access across tenants)

    /// Orders newest first, optionally of one tenant and one status; lines included.
    public func list(tenant: UUID?, status: OrderStatus?, limit: Int = 50) async throws -> [StoredOrder] {
        try await db.withSystemAccess { conn in
            let ids: [UUID] = try conn.query(
                """
                SELECT id FROM orders WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR status = $2)
                ORDER BY created_at DESC, id LIMIT $3
                """, [tenant.map(PostgresValue.uuid) ?? .null, status.map { .text($0.rawValue) } ?? .null, .int(Int64(limit))]
            ).map { try $0.decode("id") }
            return try Self.load(ids: ids, conn: conn)
        }
    }

    public func order(id: UUID) async throws -> StoredOrder? {
        try await db.withSystemAccess { conn in try Self.load(id: id, conn: conn) }
    }

    /// Confirms an open order: every line must name a product.
    public func confirm(id: UUID, by person: String) async throws -> StoredOrder {
        try await decide(id: id, status: .confirmed, by: person) { order in
            if order.lines.isEmpty { throw OrderStoreError.empty(id) }
            let ambiguous = order.lines.enumerated().filter { $0.element.isAmbiguous }.map { $0.offset + 1 }
            if !ambiguous.isEmpty { throw OrderStoreError.ambiguousLines(id, ambiguous) }
        }
    }

    public func reject(id: UUID, by person: String) async throws -> StoredOrder {
        try await decide(id: id, status: .rejected, by: person) { _ in }
    }

    private func decide(id: UUID, status: OrderStatus, by person: String, check: @escaping @Sendable (StoredOrder) throws -> Void) async throws
        -> StoredOrder
    {
        try await db.withSystemAccess { conn in
            _ = try conn.query("SELECT id FROM orders WHERE id = $1 FOR UPDATE", [.uuid(id)])
            guard let order = try Self.load(id: id, conn: conn) else { throw OrderStoreError.notFound(id) }
            guard order.status.isOpen else { throw OrderStoreError.decided(id, order.status) }
            try check(order)
            try conn.execute(
                """
                UPDATE orders SET status = $2, decided_at = now(), decided_by = $3, requires_review = false, version = version + 1,
                    updated_at = now()
                WHERE id = $1
                """, [.uuid(id), .text(status.rawValue), .text(person)])
            return try Self.load(id: id, conn: conn)!
        }
    }

    /// A person fixes line `position` (1-based): the product by SKU and/or the quantity (and unit). The line becomes
    /// certain; the order's confidence, warnings and status are worked out again.
    public func setLine(id: UUID, position: Int, sku: String?, quantity: Double?, unit: String?) async throws -> StoredOrder {
        if let quantity, !(quantity > 0 && quantity.isFinite) { throw OrderStoreError.badQuantity }
        return try await db.withSystemAccess { conn in
            _ = try conn.query("SELECT id FROM orders WHERE id = $1 FOR UPDATE", [.uuid(id)])
            guard var order = try Self.load(id: id, conn: conn) else { throw OrderStoreError.notFound(id) }
            guard order.status.isOpen else { throw OrderStoreError.decided(id, order.status) }
            guard (1...max(1, order.lines.count)).contains(position), position <= order.lines.count else {
                throw OrderStoreError.noSuchLine(id, position, count: order.lines.count)
            }
            var line = order.lines[position - 1]
            var product: CatalogProduct?
            let wantedSKU = sku ?? line.sku
            if let wantedSKU {
                product = try conn.query(
                    """
                    SELECT id, sku, name, aliases, unit, pack, price::text AS price, category FROM products
                    WHERE tenant_id = $1 AND sku = $2 AND active
                    """, [.uuid(order.tenantID), .text(wantedSKU)]
                ).first.map { row in
                    CatalogProduct(
                        id: try row.decode("id"), sku: try row.decode("sku"), name: try row.decode("name"), aliases: try row.decode("aliases"),
                        unit: try row.decode("unit"), pack: try row.decodeIfPresent("pack"),
                        priceCents: CatalogProduct.cents(try row.decodeIfPresent("price", as: String.self)),
                        category: try row.decodeIfPresent("category"))
                }
                if product == nil, sku != nil { throw OrderStoreError.unknownSKU(wantedSKU) }
            }
            if let product {
                line.sku = product.sku
                line.productID = product.id
                line.name = product.name
                line.candidates = []
                line.unit = unit ?? line.unit ?? product.unit
                line.unitPriceCents = OrderParser.unitPrice(product, unit: line.unit!)
            } else if let unit {
                line.unit = unit
            }
            if let quantity { line.quantity = quantity }
            line.confidence = 1
            line.match = .person
            order.lines[position - 1] = line
            let redone = OrderExtraction(isOrder: true, lines: order.lines, unmatched: order.unmatched)
            let status: OrderStatus = redone.requiresReview ? .review : .pending
            try conn.execute(
                """
                UPDATE orders SET status = $2, requires_review = $3, confidence = $4, is_valid = $5, total = $6::numeric, warnings = $7,
                    version = version + 1, updated_at = now()
                WHERE id = $1
                """,
                [
                    .uuid(id), .text(status.rawValue), .bool(redone.requiresReview), .double(redone.confidence), .bool(redone.isValid),
                    .text(Self.money(redone.totalCents)), .jsonb(try Self.json(redone.warnings.map(\.description))),
                ])
            try Self.writeLines(order.lines, order: id, tenant: order.tenantID, conn: conn)
            return try Self.load(id: id, conn: conn)!
        }
    }

    // MARK: Formatting

    static func money(_ cents: Int) -> String { String(format: "%@%d.%02d", cents < 0 ? "-" : "", abs(cents) / 100, abs(cents) % 100) }
    static func quantityText(_ q: Double) -> String { String(format: "%.3f", q) }
    static func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try JSONEncoder().encode(value), as: UTF8.self) }
}
