public import FoundationEssentials
public import SwitchboardPostgres
import SwitchboardStore

/// A tenant's intent examples and trained model in PostgreSQL, under its row-level security scope.
public struct IntentModelStore: Sendable {
    public let db: PostgresClient

    public init(db: PostgresClient) { self.db = db }

    /// What is stored for a tenant: its model (nil until trained) and its threshold override.
    public struct Stored: Sendable {
        public var model: IntentModel?
        public var threshold: Float?
        public var examples: Int
        public var trainedAt: String?
        public var trainedExamples: Int?
    }

    /// Adds the examples in one transaction; ones already stored are left alone. Returns (added, unchanged).
    public func importExamples(_ rows: [LabelledText], tenant: UUID) async throws -> (added: Int, unchanged: Int) {
        for (n, row) in rows.enumerated() {
            guard IntentModelStore.isIntentName(row.intent) else {
                throw IntentModelError.badData("row \(n + 1): intent names are lower-case letters, digits and _ (at most 64)")
            }
            guard row.text.count <= 2000 else { throw IntentModelError.badData("row \(n + 1): an example is at most 2,000 characters") }
        }
        // One statement for the whole file: the rows go in as two arrays.
        return try await db.withTenant(tenant) { conn in
            let added = try conn.query(
                """
                INSERT INTO intent_examples (tenant_id, intent, text)
                SELECT $1, t.intent, t.text FROM unnest($2::text[], $3::text[]) AS t(intent, text)
                ON CONFLICT DO NOTHING RETURNING id
                """, [.uuid(tenant), .textArray(rows.map(\.intent)), .textArray(rows.map(\.text))]
            ).count
            return (added, rows.count - added)
        }
    }

    /// Intent names: lower-case ASCII letters, digits and `_`, 1–64 of them (as the table's check says).
    public static func isIntentName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    public func examples(tenant: UUID) async throws -> [LabelledText] {
        try await db.withTenant(tenant) { conn in
            try conn.query("SELECT intent, text FROM intent_examples ORDER BY intent, text").map {
                LabelledText(text: try $0.decode("text"), intent: try $0.decode("intent"))
            }
        }
    }

    public func save(_ model: IntentModel, tenant: UUID) async throws {
        let bytes = try IntentModelFile.encode(model)
        let manifest = String(decoding: try JSONEncoder().encode(model.manifest), as: UTF8.self)
        try await db.withTenant(tenant) { conn in
            try conn.execute(
                """
                INSERT INTO intent_models (tenant_id, model, model_sha256, manifest, trained_examples, trained_at)
                VALUES ($1, $2, $3, $4::jsonb, $5, now())
                ON CONFLICT (tenant_id) DO UPDATE SET model = $2, model_sha256 = $3, manifest = $4::jsonb, trained_examples = $5,
                    trained_at = now(), updated_at = now()
                """,
                [.uuid(tenant), .bytea(bytes), .text(IntentModelFile.sha256(bytes)), .text(manifest), .int(Int64(model.manifest.examples))])
        }
    }

    /// Sets (or with nil clears) the tenant's out-of-scope threshold.
    public func setThreshold(_ threshold: Float?, tenant: UUID) async throws {
        try await db.withTenant(tenant) { conn in
            try conn.execute(
                """
                INSERT INTO intent_models (tenant_id, out_of_scope_threshold) VALUES ($1, $2::real)
                ON CONFLICT (tenant_id) DO UPDATE SET out_of_scope_threshold = $2::real, updated_at = now()
                """, [.uuid(tenant), threshold.map { .text("\($0)") } ?? .null])
        }
    }

    public func load(tenant: UUID) async throws -> Stored {
        try await db.withTenant(tenant) { conn in
            let examples = try conn.query("SELECT count(*)::int AS n FROM intent_examples").first.map { try $0.decode("n", as: Int.self) } ?? 0
            guard
                let row = try conn.query(
                    """
                    SELECT model, out_of_scope_threshold::text AS threshold, trained_at::text AS trained_at, trained_examples
                    FROM intent_models
                    """
                ).first
            else { return Stored(model: nil, threshold: nil, examples: examples) }
            let bytes = try row.decodeIfPresent("model", as: PostgresBytes.self)?.bytes
            return Stored(
                model: try bytes.map { try IntentModelFile.decode($0) },
                threshold: try row.decodeIfPresent("threshold", as: String.self).flatMap(Float.init),
                examples: examples, trainedAt: try row.decodeIfPresent("trained_at"), trainedExamples: try row.decodeIfPresent("trained_examples"))
        }
    }
}
