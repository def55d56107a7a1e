import SwitchboardKnowledge

/// Finds the shape of order lines in a turn: a quantity (a number or a number word: "dos", "a dozen", "media") next
/// to a unit or pack word ("kg", "cajas", "boxes", "docena", "litros") — "5 kg de tomate roma y 2 cajas de cebolla".
/// It knows no catalogue: the order extractor matches the lines to products; this only says that the turn reads as
/// an order, which the English-trained intent model cannot say of a Spanish list.
public enum OrderLineDetector {
    static let numberWords: Set<String> = [
        "a", "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "dozen", "half", "un", "una",
        "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "doce", "media", "medio", "docena",
    ]
    static let units: Set<String> = [
        "kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramos", "g", "gr", "grams", "gramos", "lb", "lbs", "pound", "pounds",
        "libra", "libras", "oz", "l", "lt", "liter", "liters", "litre", "litres", "litro", "litros", "ml", "box", "boxes", "case", "cases",
        "caja", "cajas", "bag", "bags", "bolsa", "bolsas", "sack", "sacks", "saco", "sacos", "pack", "packs", "paquete", "paquetes",
        "dozen", "dozens", "docena", "docenas", "unit", "units", "unidad", "unidades", "piece", "pieces", "pieza", "piezas", "bottle",
        "bottles", "botella", "botellas", "can", "cans", "lata", "latas", "tray", "trays", "charola", "charolas", "bunch", "bunches",
        "manojo", "manojos", "crate", "crates", "cajon", "cajones", "jar", "jars", "frasco", "frascos", "gallon", "gallons", "galon",
        "galones", "x",
    ]

    /// Number of quantity-and-unit pairs in `text`.
    public static func lineCount(_ text: String) -> Int {
        let words = TextFolding.words(TextFolding.fold(text)).map(String.init)
        var count = 0
        var i = 0
        while i < words.count {
            let word = words[i]
            let isQuantity = word.first?.isNumber == true || numberWords.contains(word)
            // "5kg" is one word.
            if word.first?.isNumber == true, units.contains(String(word.drop { $0.isNumber || $0 == "." || $0 == "," })), word.last?.isLetter == true
            {
                count += 1
                i += 1
                continue
            }
            if isQuantity, i + 1 < words.count, units.contains(words[i + 1]), !(word == "a" && words[i + 1] == "x") {
                // "a can" / "a case" need a following noun phrase to be an order, and "can" is also a verb.
                if words[i + 1] == "can" && !(word.first?.isNumber == true) {
                    i += 1
                    continue
                }
                count += 1
                i += 2
                continue
            }
            i += 1
        }
        return count
    }
}
