import Foundation
import SwitchboardKnowledge

/// A tenant's catalogue made searchable by words: every name and alias as a sequence of word stems (exact keys),
/// every run of strong words inside them (partial keys: "roma" → Roma tomatoes, "tomate" → every tomato), the
/// category words, product sizes ("5 L", "25 kg"), and a vocabulary for correcting typos by edit distance. Built
/// once per catalogue version; lookups are dictionary hits.
public struct CatalogIndex: Sendable {
    public let products: [CatalogProduct]
    /// Stem sequence of a whole name or alias → products.
    let exactKeys: [String: [Int]]
    /// Stem sequence of a run of words inside a name or alias (and category words) → products.
    let partialKeys: [String: [Int]]
    /// Sizes each product has, "kg:25", "liter:0.5".
    let sizes: [Set<String>]
    /// Units each product is sold or packed in.
    let units: [Set<String>]
    /// Every stem in names and aliases, for typo correction; by length.
    let vocabulary: Set<String>
    let vocabularyByLength: [Int: [String]]
    let maxKeyLength: Int

    public init(products: [CatalogProduct]) {
        self.products = products
        var exact: [String: [Int]] = [:]
        var partial: [String: [Int]] = [:]
        var sizes: [Set<String>] = []
        var units: [Set<String>] = []
        var vocabulary: Set<String> = []
        var maxKey = 1
        for (index, product) in products.enumerated() {
            var productSizes: Set<String> = []
            var productUnits: Set<String> = [product.unit.lowercased()]
            for phrase in [product.name] + product.aliases {
                let stems = Self.keyStems(OrderTokenizer.tokenize(phrase))
                guard !stems.isEmpty else { continue }
                maxKey = max(maxKey, stems.count)
                Self.append(index, to: &exact[stems.joined(separator: " ")])
                for stem in stems where stem.first?.isLetter == true { vocabulary.insert(stem) }
                for start in stems.indices {
                    for end in start..<stems.count where Self.isStrong(stems[start]) && Self.isStrong(stems[end]) {
                        Self.append(index, to: &partial[stems[start...end].joined(separator: " ")])
                    }
                }
                productSizes.formUnion(Self.sizes(in: OrderTokenizer.tokenize(phrase)))
            }
            if let pack = product.pack {
                let parts = pack.split(separator: "=", maxSplits: 1)
                if parts.count == 2 {
                    productUnits.insert(parts[0].trimmingCharacters(in: .whitespaces).lowercased())
                    productSizes.formUnion(Self.sizes(in: OrderTokenizer.tokenize(String(parts[1]))))
                }
            }
            sizes.append(productSizes)
            units.append(productUnits)
        }
        // Category words ("cheese", "fruit") name every product of the category, besides those whose names use the word.
        var categoryWords: [String: [Int]] = [:]
        for (index, product) in products.enumerated() {
            guard let category = product.category else { continue }
            for word in TextFolding.words(TextFolding.fold(category)) {
                let stem = Self.stem(String(word))
                if Self.isStrong(stem) { Self.append(index, to: &categoryWords[stem]) }
            }
        }
        partial.merge(categoryWords) { a, b in a + b.filter { !a.contains($0) } }
        self.exactKeys = exact
        self.partialKeys = partial
        self.sizes = sizes
        self.units = units
        self.vocabulary = vocabulary
        self.vocabularyByLength = Dictionary(grouping: vocabulary, by: \.count)
        self.maxKeyLength = maxKey
    }

    private static func append(_ index: Int, to list: inout [Int]?) {
        if list == nil { list = [index] } else if !list!.contains(index) { list!.append(index) }
    }

    /// The stems a phrase is matched by: connectors dropped, measure units in one spelling ("litros" → "l").
    static func keyStems(_ tokens: [OrderToken]) -> [String] {
        tokens.compactMap { token -> String? in
            switch token.kind {
            case .separator: return nil
            case .number: return token.text
            case .word:
                if OrderLexicon.connectors.contains(token.text) { return nil }
                return canonical(token.text)
            }
        }
    }

    /// A word's matching form: a measure unit's symbol, or the word's stem.
    static func canonical(_ word: String) -> String {
        if let unit = OrderLexicon.units[word], OrderLexicon.measureUnits.contains(unit.unit) {
            return unit.factor == 1 ? (unit.unit == "kg" ? "kg" : "l") : (unit.unit == "kg" ? "g" : "ml")
        }
        return stem(word)
    }

    /// A stem shared by a word's singular and plural in English and Spanish: "strawberries" → "strawberry",
    /// "tomatoes"/"tomato" → "tomato", "tomates"/"tomate" → "tomat", "limones"/"limón" → "limon".
    static func stem(_ word: String) -> String {
        var w = Substring(word)
        if w.count > 4, w.hasSuffix("ies") { return String(w.dropLast(3)) + "y" }
        if w.count > 3, w.hasSuffix("s"), !w.hasSuffix("ss"), !w.hasSuffix("us") { w = w.dropLast() }
        if w.count > 4, w.hasSuffix("e") { w = w.dropLast() }
        return String(w)
    }

    /// Words that can carry a match alone: not a number, unit, connector, colour or common modifier.
    static func isStrong(_ stem: String) -> Bool {
        guard let first = stem.first, first.isLetter, stem.count >= 3 else { return false }
        return !weakStems.contains(stem)
    }

    static let weakStems: Set<String> = {
        var words = OrderLexicon.harmlessModifiers.union(OrderLexicon.connectors)
        words.formUnion([
            "red", "green", "white", "black", "yellow", "purple", "sweet", "plain", "whole", "baby", "virgin", "extra", "roja", "rojo",
            "verde", "blanca", "blanco", "negra", "negro", "amarilla", "amarillo", "morada", "morado", "colorada", "colorado", "dulce",
            "entera", "entero", "natural", "fina", "fino", "grano", "largo", "large", "long", "grain", "con", "sin", "kg", "ml", "and",
            "pack", "box", "bag", "can", "bottle", "unit", "sack", "dozen", "liter", "l", "g",
        ])
        words.formUnion(OrderLexicon.units.keys)
        return Set(words.map(stem))
    }()

    /// Sizes written in a phrase: a number followed by a measure unit ("5 L" → "liter:5", "500g" → "kg:0.5").
    static func sizes(in tokens: [OrderToken]) -> Set<String> {
        var out: Set<String> = []
        for (i, token) in tokens.enumerated() where token.kind == .number && i + 1 < tokens.count {
            if let size = sizeKey(token.value, unitWord: tokens[i + 1].text) { out.insert(size) }
        }
        return out
    }

    static func sizeKey(_ value: Double, unitWord: String) -> String? {
        guard let unit = OrderLexicon.units[unitWord], OrderLexicon.measureUnits.contains(unit.unit) else { return nil }
        let amount = value * unit.factor
        let text = amount == amount.rounded() ? String(Int(amount)) : String(amount)
        return "\(unit.unit):\(text)"
    }

    /// A word's catalogue form: its stem when the catalogue uses it, else the one catalogue stem within a small
    /// edit distance ("sebolla" → "cebolla", "aguacte" → "aguacat"), else nil.
    func correct(_ stem: String) -> (stem: String, fuzzy: Bool)? {
        if vocabulary.contains(stem) { return (stem, false) }
        let length = stem.count
        guard length >= 5, stem.allSatisfy(\.isLetter) else { return nil }
        let limit = length >= 8 ? 2 : 1
        var best: String?
        var bestDistance = limit + 1
        var tie = false
        for candidateLength in (length - limit)...(length + limit) {
            for candidate in vocabularyByLength[candidateLength] ?? [] {
                let d = Self.editDistance(stem, candidate, limit: limit)
                if d < bestDistance {
                    (best, bestDistance, tie) = (candidate, d, false)
                } else if d == bestDistance, candidate != best {
                    tie = true
                }
            }
        }
        guard let best, !tie, bestDistance <= limit else { return nil }
        return (best, true)
    }

    /// Optimal-string-alignment distance (a swap of neighbours counts one), stopping early past `limit`.
    static func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
        let x = Array(a.unicodeScalars)
        let y = Array(b.unicodeScalars)
        if abs(x.count - y.count) > limit { return limit + 1 }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...max(1, x.count) where !x.isEmpty {
            current[0] = i
            var rowMin = current[0]
            for j in 1...max(1, y.count) where !y.isEmpty {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var v = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { v = min(v, previous2[j - 2] + 1) }
                current[j] = v
                rowMin = min(rowMin, v)
            }
            if rowMin > limit { return limit + 1 }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return x.isEmpty ? y.count : previous[y.count]
    }
}
