import SwitchboardOrders

/// A small produce distributor's catalogue, written for these tests: near-duplicates (three tomatoes, two onions,
/// two lettuces, two olive oils, two rices, two egg packs) and house defaults ("cebolla" is the white onion).
enum OrderTestCatalog {
    static let rows: [(String, String, [String], String, String?, Int, String)] = [
        ("ROMA", "Roma tomatoes", ["tomate roma", "jitomate roma", "tomate saladet"], "kg", "box=20kg", 150, "vegetables"),
        ("CHERRY", "Cherry tomatoes", ["tomate cherry", "cherry"], "box", "box=3kg", 800, "vegetables"),
        ("BEEF", "Beef tomatoes", ["tomate bola", "beef tomato"], "kg", "box=15kg", 200, "vegetables"),
        ("ONION-W", "White onions", ["cebolla blanca", "cebolla", "onion", "white onion"], "kg", "sack=20kg", 90, "vegetables"),
        ("ONION-R", "Red onions", ["cebolla morada", "red onion"], "kg", "sack=20kg", 110, "vegetables"),
        ("POTATO", "White potatoes", ["papa", "patata", "potato"], "kg", "sack=25kg", 70, "vegetables"),
        ("SWEETPOT", "Sweet potatoes", ["camote", "batata", "sweet potato"], "kg", nil, 140, "vegetables"),
        ("CARROT", "Carrots", ["zanahoria", "carrot"], "kg", nil, 80, "vegetables"),
        ("ROMAINE", "Romaine lettuce", ["lechuga romana", "romaine"], "unit", "box=24 heads", 100, "vegetables"),
        ("ICEBERG", "Iceberg lettuce", ["lechuga iceberg", "iceberg"], "unit", "box=24 heads", 95, "vegetables"),
        ("AVOCADO", "Avocados", ["aguacate", "palta", "avocado"], "kg", "box=10kg", 350, "fruit"),
        ("LIME", "Limes", ["limón", "lima", "lime"], "kg", "box=18kg", 130, "fruit"),
        ("LEMON", "Lemons", ["limón amarillo", "lemon"], "kg", nil, 200, "fruit"),
        ("STRAW", "Strawberries", ["fresa", "frutilla", "strawberry"], "box", "box=2kg", 700, "fruit"),
        ("PINEAPPLE", "Pineapples", ["piña", "pineapple"], "unit", nil, 170, "fruit"),
        ("APPLE-R", "Red apples", ["manzana roja", "red apple"], "kg", "box=18kg", 190, "fruit"),
        ("APPLE-G", "Green apples", ["manzana verde", "green apple"], "kg", "box=18kg", 210, "fruit"),
        ("EGGS12", "Eggs (dozen)", ["huevo", "egg"], "dozen", nil, 260, "eggs-dairy"),
        ("EGGS30", "Eggs (tray of 30)", ["tray of eggs", "maple de huevos"], "pack", "pack=30 eggs", 600, "eggs-dairy"),
        ("MILK", "Whole milk 1 L", ["leche", "milk"], "liter", nil, 100, "eggs-dairy"),
        ("CREAM", "Cream 1 L", ["crema", "nata", "cream"], "liter", nil, 400, "eggs-dairy"),
        ("MOZZ", "Mozzarella", ["mozzarella", "queso mozzarella"], "kg", nil, 750, "cheese"),
        ("CHEDDAR", "Cheddar", ["cheddar", "queso cheddar"], "kg", nil, 900, "cheese"),
        ("PARM", "Parmesan", ["parmesano", "parmesan"], "kg", nil, 1800, "cheese"),
        ("CILANTRO", "Cilantro", ["cilantro", "coriander"], "unit", "unit=1 bunch", 50, "herbs"),
        ("BASIL", "Basil", ["albahaca", "basil"], "unit", nil, 120, "herbs"),
        ("RICE1", "Rice 1 kg", ["arroz en bolsa", "rice 1 kg"], "bag", "bag=1kg", 130, "dry-goods"),
        ("RICE25", "Rice 25 kg", ["arroz en costal", "rice 25 kg", "rice sack"], "sack", "sack=25kg", 2800, "dry-goods"),
        ("BEANS-B", "Black beans 1 kg", ["frijol negro", "black beans"], "bag", "bag=1kg", 180, "dry-goods"),
        ("BEANS-P", "Pinto beans 1 kg", ["frijol pinto", "pinto beans"], "bag", "bag=1kg", 180, "dry-goods"),
        ("OLIVE1", "Olive oil 1 L", ["aceite de oliva 1 l", "olive oil 1 l", "olive oil bottle"], "bottle", "bottle=1 L", 850, "oils"),
        ("OLIVE5", "Olive oil 5 L", ["aceite de oliva 5 l", "olive oil 5 l", "olive oil tin"], "can", "can=5 L", 3800, "oils"),
        ("VEGOIL", "Vegetable oil 20 L", ["aceite vegetal", "vegetable oil", "veg oil"], "can", "can=20 L", 4000, "oils"),
        ("WATER", "Still water (12 × 500 ml)", ["agua", "water", "still water"], "pack", "pack=12 bottles", 400, "beverages"),
        ("BLEACH", "Bleach 5 L", ["cloro", "lejía", "bleach"], "bottle", "bottle=5 L", 440, "cleaning"),
        ("TRASH", "Trash bags (50)", ["bolsas de basura", "trash bags"], "pack", "pack=50", 600, "cleaning"),
    ]

    static let products: [CatalogProduct] = rows.map {
        CatalogProduct(sku: $0.0, name: $0.1, aliases: $0.2, unit: $0.3, pack: $0.4, priceCents: $0.5, category: $0.6)
    }

    static let index = CatalogIndex(products: products)
}
