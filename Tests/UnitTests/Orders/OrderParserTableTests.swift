import SwitchboardOrders
import Testing

/// One turn and the exact lines it must give: "SKU quantity unit", "?words quantity unit" for a line flagged
/// ambiguous (unit "-" when none), "!words" for a product the catalogue lacks; ["NOT"] for a turn that is not an order.
struct OrderCaseRow: Sendable, CustomTestStringConvertible {
    let messages: [String]
    let expected: [String]
    init(_ messages: String..., expect expected: [String]) {
        self.messages = messages
        self.expected = expected
    }
    var testDescription: String { messages.joined(separator: " / ") }
}

func describe(_ e: OrderExtraction) -> [String] {
    guard e.isOrder else { return ["NOT"] }
    func q(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
    return e.lines.map { l in l.isAmbiguous ? "?\(l.text) \(q(l.quantity)) \(l.unit ?? "-")" : "\(l.sku!) \(q(l.quantity)) \(l.unit ?? "-")" }
        + e.unmatched.map { "!\($0.text)" }
}

@Suite("Order extraction: numbers, units, sizes and corrections in English and Spanish")
struct OrderParserTableTests {
    static let numbers: [OrderCaseRow] = [
        OrderCaseRow("5 kg de tomate roma", expect: ["ROMA 5 kg"]),
        OrderCaseRow("dos kilos de zanahoria", expect: ["CARROT 2 kg"]),
        OrderCaseRow("tres cajas de aguacate", expect: ["AVOCADO 3 box"]),
        OrderCaseRow("a dozen eggs", expect: ["EGGS12 1 dozen"]),
        OrderCaseRow("una docena de huevos", expect: ["EGGS12 1 dozen"]),
        OrderCaseRow("media docena de huevos", expect: ["EGGS12 0.5 dozen"]),
        OrderCaseRow("half a dozen eggs please", expect: ["EGGS12 0.5 dozen"]),
        OrderCaseRow("half a kilo of parmesan", expect: ["PARM 0.5 kg"]),
        OrderCaseRow("medio kilo de parmesano", expect: ["PARM 0.5 kg"]),
        OrderCaseRow("1,5 kg de mozzarella", expect: ["MOZZ 1.5 kg"]),
        OrderCaseRow("1.5 kg cheddar", expect: ["CHEDDAR 1.5 kg"]),
        OrderCaseRow("1/2 kg cheddar", expect: ["CHEDDAR 0.5 kg"]),
        OrderCaseRow("a couple of bags of black beans", expect: ["BEANS-B 2 bag"]),
        OrderCaseRow("un par de lechugas romanas", expect: ["ROMAINE 2 unit"]),
        OrderCaseRow("kilo y medio de parmesano", expect: ["PARM 1.5 kg"]),
        OrderCaseRow("2 and a half kg of carrots", expect: ["CARROT 2.5 kg"]),
        OrderCaseRow("twelve heads of romaine", expect: ["ROMAINE 12 unit"]),
        OrderCaseRow("pineapple x3", expect: ["PINEAPPLE 3 unit"]),
        OrderCaseRow("500 g de parmesano", expect: ["PARM 0.5 kg"]),
        OrderCaseRow("add 250g cheddar", expect: ["CHEDDAR 0.25 kg"]),
        OrderCaseRow("y una piña", expect: ["PINEAPPLE 1 unit"]),
        OrderCaseRow("a sack of potatoes", expect: ["POTATO 1 sack"]),
    ]

    static let units: [OrderCaseRow] = [
        OrderCaseRow("3 cases of limes", expect: ["LIME 3 box"]),
        OrderCaseRow("2 bultos de papa", expect: ["POTATO 2 sack"]),
        OrderCaseRow("4 costales de cebolla", expect: ["ONION-W 4 sack"]),
        OrderCaseRow("10 kgs carrots", expect: ["CARROT 10 kg"]),
        OrderCaseRow("3 lts de crema", expect: ["CREAM 3 liter"]),
        OrderCaseRow("2 litros de leche", expect: ["MILK 2 liter"]),
        OrderCaseRow("6 manojos de cilantro", expect: ["CILANTRO 6 unit"]),
        OrderCaseRow("4 bunches of basil", expect: ["BASIL 4 unit"]),
        OrderCaseRow("2 trays of eggs", expect: ["EGGS30 2 pack"]),
        OrderCaseRow("2 maples de huevos", expect: ["EGGS30 2 pack"]),
        OrderCaseRow("3 cajones de fresa", expect: ["STRAW 3 box"]),
        OrderCaseRow("2 bolsas de frijol negro", expect: ["BEANS-B 2 bag"]),
        OrderCaseRow("2 packs trash bags", expect: ["TRASH 2 pack"]),
        OrderCaseRow("roma 10\ncherry 2\nbasil 4", expect: ["ROMA 10 kg", "CHERRY 2 box", "BASIL 4 unit"]),
        OrderCaseRow("2 bleach", expect: ["BLEACH 2 bottle"]),
        OrderCaseRow("2 kg carrots", "y cilantro también", expect: ["CARROT 2 kg", "CILANTRO 1 unit"]),
        OrderCaseRow("5 kilos de frutilla", expect: ["STRAW 5 kg"]),
    ]

    static let sizesAndPrices: [OrderCaseRow] = [
        OrderCaseRow("2 cans of the 5 L olive oil", expect: ["OLIVE5 2 can"]),
        OrderCaseRow("the 1L olive oil x3", expect: ["OLIVE1 3 bottle"]),
        OrderCaseRow("2 sacks of rice 25kg", expect: ["RICE25 2 sack"]),
        OrderCaseRow("a sack of rice", expect: ["RICE25 1 sack"]),
        OrderCaseRow("2 cans of olive oil", expect: ["OLIVE5 2 can"]),
        OrderCaseRow("un costal de arroz", expect: ["RICE25 1 sack"]),
        OrderCaseRow("roma tomatoes 5 kg at 1.50 per kg", expect: ["ROMA 5 kg"]),
        OrderCaseRow("2 paquetes de agua de 500ml", expect: ["WATER 2 pack"]),
        OrderCaseRow("3 cajas de limes y 1 de lemons", expect: ["LIME 3 box", "LEMON 1 box"]),
        OrderCaseRow("20 kg de papa y 5 de zanahoria", expect: ["POTATO 20 kg", "CARROT 5 kg"]),
        OrderCaseRow("🍅 x 2 boxes cherry, 🥑 x 1 box", expect: ["CHERRY 2 box", "AVOCADO 1 box"]),
        OrderCaseRow("sebolla morada 5 kilos, aguacte 2 cajas", expect: ["ONION-R 5 kg", "AVOCADO 2 box"]),
    ]

    static let corrections: [OrderCaseRow] = [
        OrderCaseRow("need 4 boxes of avocados", "actually make it 6", expect: ["AVOCADO 6 box"]),
        OrderCaseRow("5 kg de tomate roma", "no mejor 8", expect: ["ROMA 8 kg"]),
        OrderCaseRow("10 kg white onion, 5 kg carrots", "forget the onions", expect: ["CARROT 5 kg"]),
        OrderCaseRow("2 cajas de fresa y 3 de aguacate", "perdón, fresa son 3 y aguacate 2", expect: ["STRAW 3 box", "AVOCADO 2 box"]),
        OrderCaseRow("5 kg red onions", "scratch the red onions, make it white onions 5 kg", expect: ["ONION-W 5 kg"]),
        OrderCaseRow("2 sacks of rice 25kg", "oh and 1 more sack of rice", expect: ["RICE25 3 sack"]),
        OrderCaseRow("3 boxes roma tomatoes", "just confirming: roma tomatoes 3 boxes", expect: ["ROMA 3 box"]),
        OrderCaseRow("esta semana no cebolla, mandame 20 kg de papa", expect: ["POTATO 20 kg"]),
        OrderCaseRow("sin cilantro esta vez, solo 4 manojos de albahaca", expect: ["BASIL 4 unit"]),
        OrderCaseRow("3 bags black beans", "and 2 more bags", expect: ["BEANS-B 5 bag"]),
        OrderCaseRow("20 kg papa", "y 10 de camote", "no, quita el camote", expect: ["POTATO 20 kg"]),
        OrderCaseRow("2 kg de limón", "perdón, eran limones amarillos", expect: ["LEMON 2 kg"]),
        OrderCaseRow("a couple kilos of lemons and limes, half and half", expect: ["LEMON 1 kg", "LIME 1 kg"]),
        OrderCaseRow("8 kg roma", "no wait, 10", expect: ["ROMA 10 kg"]),
        OrderCaseRow("2 boxes of strawberries", "make that 3 boxes", expect: ["STRAW 3 box"]),
    ]

    static let ambiguousUnmatchedAndNonOrders: [OrderCaseRow] = [
        OrderCaseRow("10 kg of tomatoes", expect: ["?tomatoes 10 kg"]),
        OrderCaseRow("quiero 2 cajas de lechuga", expect: ["?lechuga 2 box"]),
        OrderCaseRow("2 olive oil", expect: ["?olive oil 2 -"]),
        OrderCaseRow("3 kg of cheese and 2 kg parmesan", expect: ["?cheese 3 kg", "PARM 2 kg"]),
        OrderCaseRow("send 2 kgs kale and 3 kg carrots", expect: ["CARROT 3 kg", "!kale"]),
        OrderCaseRow("5 kg de tomate roma, y jengibre también", expect: ["ROMA 5 kg", "!jengibre"]),
        OrderCaseRow("5 kg roma and send the invoice too", expect: ["ROMA 5 kg"]),
        OrderCaseRow("3 dozen quail eggs for saturday", expect: ["!quail eggs"]),
        OrderCaseRow("how much is the 5 L olive oil?", expect: ["NOT"]),
        OrderCaseRow("last week you charged us for 5 boxes of avocado but only 4 came", expect: ["NOT"]),
        OrderCaseRow("do you have fresh basil this week?", expect: ["NOT"]),
        OrderCaseRow("buenos días 😊", expect: ["NOT"]),
        OrderCaseRow("ayer llegaron los aguacates muy verdes", expect: ["NOT"]),
        OrderCaseRow("our address changed, it's 123 main street", expect: ["NOT"]),
        OrderCaseRow("tienen fresa? mandame 2 cajas", expect: ["STRAW 2 box"]),
        OrderCaseRow("me mandas 20 kg de cebolla blanca? how much is it per kilo now", expect: ["ONION-W 20 kg"]),
    ]

    static let parser = OrderParser(index: OrderTestCatalog.index)

    @Test(arguments: numbers) func quantitiesInWordsAndDigits(_ row: OrderCaseRow) {
        #expect(describe(Self.parser.extract(row.messages)) == row.expected)
    }

    @Test(arguments: units) func unitWordsAndCatalogueUnits(_ row: OrderCaseRow) {
        #expect(describe(Self.parser.extract(row.messages)) == row.expected)
    }

    @Test(arguments: sizesAndPrices) func sizesPricesAndEllipsis(_ row: OrderCaseRow) {
        #expect(describe(Self.parser.extract(row.messages)) == row.expected)
    }

    @Test(arguments: corrections) func correctionsCancellationsAndRepeats(_ row: OrderCaseRow) {
        #expect(describe(Self.parser.extract(row.messages)) == row.expected)
    }

    @Test(arguments: ambiguousUnmatchedAndNonOrders) func ambiguousUnmatchedAndNotOrders(_ row: OrderCaseRow) {
        #expect(describe(Self.parser.extract(row.messages)) == row.expected)
    }

    @Test func thereAreAtLeastSixtyCases() {
        #expect(
            Self.numbers.count + Self.units.count + Self.sizesAndPrices.count + Self.corrections.count + Self.ambiguousUnmatchedAndNonOrders.count
                >= 60)
    }
}
