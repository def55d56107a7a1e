import Foundation
import SwitchboardConversations
import SwitchboardEmbedding
import SwitchboardKnowledge
import SwitchboardPostgres
import SwitchboardStore

/// A tenant of its own for a benchmark or the chaos run: a WhatsApp channel with a fresh app secret, the catalogue and
/// help center from `data` (catalog.csv and kb/) embedded, and `settings` when given. Returns the tenant, the channel's
/// phone number id and its app secret.
func makeBenchTenant(
    _ label: String, db: PostgresClient, box: SecretBox, embedder: EmbeddingService, data: String, settings: PipelineSettings? = nil
) async throws -> (tenant: UUID, phone: String, secret: String) {
    let tenant = try await TenantDirectory(db: db).createTenant(name: "\(label) \(UUID().uuidString.prefix(8))").id
    let phone = String(UInt64.random(in: 100_000_000_000...999_999_999_999))
    let secret = "bench-\(UUID().uuidString)"
    _ = try await ChannelDirectory(db: db, secretBox: box).addChannel(
        tenant: tenant, kind: .whatsapp, address: phone, secrets: ChannelSecrets(appSecret: secret, verifyToken: "bench", accessToken: "bench"))
    let csv = try String(contentsOfFile: data + "/catalog.csv", encoding: .utf8)
    _ = try await CatalogStore(db: db).importProducts(try CatalogReader.parse(csv, path: data + "/catalog.csv"), tenant: tenant)
    let kb = KBStore(db: db)
    _ = try await kb.importEntries(try KBSourceReader.read(path: data + "/kb"), tenant: tenant)
    try await KnowledgeEmbedder(store: kb, embedder: embedder).embedPending(tenant: tenant)
    if let settings { try await PipelineSettingsStore(db: db).save(settings, tenant: tenant) }
    return (tenant, phone, secret)
}
