import Foundation
import SwitchboardEmbedding
import SwitchboardKnowledge
import SwitchboardPostgres
import SwitchboardStore

/// One embedding service for the knowledge tests (the model is mapped once; SWITCHBOARD_MODEL_DIR from scripts/services).
let sharedEmbedder: Result<EmbeddingService, any Error> = Result {
    guard let directory = ProcessInfo.processInfo.environment["SWITCHBOARD_MODEL_DIR"] else {
        throw TestModelMissing()
    }
    return try EmbeddingService(modelDirectory: directory)
}

struct TestModelMissing: Error, CustomStringConvertible {
    var description: String { "SWITCHBOARD_MODEL_DIR is not set: run the suite with scripts/test (scripts/services fetches the model)" }
}

/// A fresh tenant on the migrated test database.
func makeKnowledgeTenant(_ db: PostgresClient, _ label: String) async throws -> UUID {
    try await SharedSchema.shared.ensureMigrated()
    return try await TenantDirectory(db: db).createTenant(name: "\(label) \(UUID().uuidString.prefix(8))").id
}

/// A small help center as Markdown files in a temporary folder.
func writeHelpCenter(_ articles: [String: String]) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kb-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (name, text) in articles { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
    return folder
}

let sampleHelpCenter: [String: String] = [
    "001-cancel.md": """
    ---
    id: kb-001
    title: How to cancel an order
    tags: [orders, cancellation]
    ---

    You can cancel an order free of charge until 22:00 the evening before delivery.

    ## Before the cut-off

    Open the order in My account and press Cancel order, or send CANCEL and the order number on WhatsApp.

    ## After the cut-off

    A late-cancellation charge applies once the night shift has started picking your products.
    """,
    "002-delivery.md": """
    ---
    id: kb-002
    title: Delivery times and windows
    tags: [delivery]
    ---

    We deliver Monday to Saturday. Choose an early window from six to nine, a morning window or a midday window.
    Orders placed before the cut-off arrive the next day.
    """,
    "003-invoices.md": """
    ---
    id: kb-003
    title: Finding your invoices
    tags: [billing, invoices]
    ---

    Every delivery has an invoice. Download them as PDF from My account, under Invoices, or ask billing by email.
    """,
]
