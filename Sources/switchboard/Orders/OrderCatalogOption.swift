import ArgumentParser
import Foundation
import SwitchboardKnowledge
import SwitchboardOrders

/// Where order commands find the catalogue: a tenant's products in PostgreSQL, or a CSV file for trying a
/// catalogue before importing it.
struct OrderCatalogOption: ParsableArguments {
    @Option(help: "The tenant's id (from: switchboard tenants list); its imported catalogue is used.") var tenant: String?
    @Option(help: "A catalogue CSV (sku,name,aliases,unit,pack,price,category) instead of a tenant's.") var catalog: String?

    func validate() throws {
        if (tenant == nil) == (catalog == nil) { throw ValidationError("give --tenant ID or --catalog FILE (one of them)") }
        if let tenant, UUID(uuidString: tenant) == nil {
            throw ValidationError("--tenant must be a tenant id (a UUID); list them with: switchboard tenants list")
        }
    }

    var tenantID: UUID? { tenant.flatMap(UUID.init(uuidString:)) }

    /// Reads --catalog into an index.
    func fileIndex() throws -> CatalogIndex? {
        guard let catalog else { return nil }
        let records = try readSource { () throws(KnowledgeImportError) in try CatalogReader.read(path: catalog) }
        return CatalogIndex(
            products: records.filter(\.active).map {
                CatalogProduct(
                    sku: $0.sku, name: $0.name, aliases: $0.aliases, unit: $0.unit, pack: $0.pack,
                    priceCents: CatalogProduct.cents($0.priceText), category: $0.category)
            })
    }
}
