import Foundation
import SwitchboardOrders
import Testing

@Suite("Order extraction: prices, confidence, warnings and catalogue orders")
struct OrderReviewTests {
    let parser = OrderParser(index: OrderTestCatalog.index)

    @Test func unitPricesComeFromTheCatalogueThroughThePack() throws {
        let e = parser.extract(["2 cajas de tomate roma", "3 kilos de frutilla"])
        let roma = try #require(e.lines.first { $0.sku == "ROMA" })
        // Sold by the kg at 1.50; a box holds 20 kg, so a box is 30.00; strawberries are sold by the 2 kg box at 7.00.
        #expect(roma.unitPriceCents == 3000 && roma.unit == "box" && roma.quantity == 2)
        let straw = try #require(e.lines.first { $0.sku == "STRAW" })
        #expect(straw.unit == "kg" && straw.unitPriceCents == 350 && straw.totalCents == 1050)
        #expect(e.totalCents == 6000 + 1050)
    }

    @Test func aPackInMillilitresConvertsToLitres() {
        let syrup = CatalogProduct(sku: "SYRUP", name: "Syrup 750 ml", unit: "bottle", pack: "bottle=750 ml", priceCents: 600)
        // A bottle holds 0.75 L, so a litre costs 6.00 / 0.75.
        #expect(OrderParser.unitPrice(syrup, unit: "liter") == 800)
        #expect(OrderParser.unitPrice(syrup, unit: "bottle") == 600)
    }

    @Test func aClearOrderNeedsNoReview() {
        let e = parser.extract(["5 kg de tomate roma y 2 cajas de aguacate"])
        #expect(e.isOrder && e.lines.count == 2)
        #expect(e.warnings.isEmpty && !e.requiresReview && e.isValid)
        #expect(e.confidence >= 0.95)
        #expect(e.lines.map(\.totalCents) == [750, 7000])
    }

    @Test func anAmbiguousLineWarnsAndAsksForReviewWithItsCandidates() {
        let e = parser.extract(["10 kg of tomatoes"])
        #expect(e.requiresReview)
        #expect(e.lines[0].isAmbiguous && Set(e.lines[0].candidates).isSuperset(of: ["ROMA", "BEEF"]))
        #expect(e.warnings.contains(.ambiguousLine(line: 1)) && e.warnings.contains(.lowLineConfidence(line: 1, 0.4)))
        // One ambiguous line alone: a warning and confidence 0.4 ≤ 0.6, so invalid (the platform's rule).
        #expect(!e.isValid)
        // Beside a clear line the overall confidence is above 0.6: still valid, still reviewed.
        let mixed = parser.extract(["10 kg of tomatoes, 2 kg carrots, 3 kg parmesan"])
        #expect(mixed.isValid && mixed.requiresReview)
    }

    @Test func aMissingPriceIsAWarning() {
        let index = CatalogIndex(products: [CatalogProduct(sku: "KALE", name: "Kale", unit: "kg")])
        let e = OrderParser(index: index).extract(["2 kg kale"])
        #expect(e.lines.count == 1 && e.lines[0].unitPriceCents == nil)
        #expect(e.warnings == [.missingPrice(line: 1)] && e.requiresReview && e.isValid)
    }

    @Test func noProductsExtractedIsAnOrderWithNothingMatchedNotAnEmptyDraft() {
        let e = parser.extract(["3 dozen quail eggs for saturday"])
        #expect(e.isOrder && e.isEmpty && e.unmatched.map(\.text) == ["quail eggs"])
        #expect(e.requiresReview)
    }

    @Test func anOpenDraftIsAmendedByALaterTurn() {
        let draft = parser.extract(["10 kg white onion, 5 kg carrots"]).lines
        let amended = parser.extract(["forget the onions", "and add 2 bags of black beans"], amending: draft)
        #expect(describe(amended) == ["CARROT 5 kg", "BEANS-B 2 bag"])
        let corrected = parser.extract(["make it 8"], amending: parser.extract(["5 kg carrots"]).lines)
        #expect(describe(corrected) == ["CARROT 8 kg"])
    }

    @Test func aWhatsAppCatalogueOrderMapsToExactLines() throws {
        let json = """
            {"catalog_id": "1", "text": "", "product_items": [
              {"product_retailer_id": "ROMA", "quantity": 3, "item_price": 1.5, "currency": "USD"},
              {"product_retailer_id": "NOT-IN-CATALOGUE", "quantity": 2, "item_price": 4, "currency": "USD"}]}
            """
        let order = try CatalogueOrder.decode(json: json)
        let lines = order.lines(in: OrderTestCatalog.index)
        #expect(lines.map(\.sku) == ["ROMA", "NOT-IN-CATALOGUE"])
        #expect(lines.map(\.quantity) == [3, 2] && lines.map(\.unitPriceCents) == [150, 400])
        #expect(lines.allSatisfy { $0.confidence == 1 && $0.match == .catalogueOrder })
        #expect(order.currency == "USD")
        let e = OrderExtraction(isOrder: true, lines: lines, unmatched: [])
        #expect(!e.requiresReview && e.isValid && e.confidence == 1 && e.totalCents == 450 + 800)
        #expect(throws: OrderEvaluationError.self) { try CatalogueOrder.decode(json: #"{"product_items": "nope"}"#) }
    }

    @Test func hostileTextNeverCrashesAndOrdersNothing() {
        for text in [
            "", "   ", String(repeating: "9", count: 400), String(repeating: "kg ", count: 500), "\u{0}\u{1}💥", "1/0 kg roma", "½ kg", "0 kg roma",
            "123456789 kg roma", "call me on 5551234567 about roma",
        ] {
            let e = parser.extract([text])
            // Every line fits the orders table: a positive quantity below 100,000.
            #expect(e.lines.allSatisfy { $0.quantity > 0 && $0.quantity < 100_000 }, "\(text.prefix(40))")
        }
    }
}
