public import Foundation

/// A WhatsApp catalogue `order` message: the customer picked products in the tenant's Meta catalogue, so every
/// line is exact — the retailer id is the SKU, the quantity and price are what the customer saw.
public struct CatalogueOrder: Sendable, Codable, Hashable {
    public struct Item: Sendable, Codable, Hashable {
        public var productRetailerID: String
        public var quantity: Double
        public var itemPrice: Double?
        public var currency: String?

        enum CodingKeys: String, CodingKey {
            case productRetailerID = "product_retailer_id"
            case quantity
            case itemPrice = "item_price"
            case currency
        }
    }
    public var catalogID: String?
    public var text: String?
    public var productItems: [Item]

    enum CodingKeys: String, CodingKey {
        case catalogID = "catalog_id"
        case text
        case productItems = "product_items"
    }

    /// Decodes the `order` object of a WhatsApp message (as stored in `messages.media`).
    public static func decode(json: String) throws(OrderEvaluationError) -> CatalogueOrder {
        do {
            return try JSONDecoder().decode(CatalogueOrder.self, from: Data(json.utf8))
        } catch {
            throw OrderEvaluationError("the WhatsApp order has no product_items with product_retailer_id and quantity")
        }
    }

    /// The currency the items are priced in, when they name one.
    public var currency: String? { productItems.compactMap(\.currency).first }

    /// The order's lines: one per item, confidence 1, matched to the catalogue product with that SKU when there is
    /// one (the line keeps the item's price either way).
    public func lines(in index: CatalogIndex) -> [OrderLine] {
        let bySKU = Dictionary(index.products.map { ($0.sku, $0) }, uniquingKeysWith: { a, _ in a })
        return productItems.filter { $0.quantity > 0 }.map { item in
            let product = bySKU[item.productRetailerID]
            let price = item.itemPrice.map { Int(($0 * 100).rounded()) } ?? product?.priceCents
            return OrderLine(
                sku: item.productRetailerID, productID: product?.id, name: product?.name ?? item.productRetailerID, text: item.productRetailerID,
                quantity: item.quantity, unit: product?.unit ?? "unit", unitPriceCents: price, confidence: 1, match: .catalogueOrder)
        }
    }
}
