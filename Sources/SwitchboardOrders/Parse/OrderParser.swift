/// A line while a turn is read: the product (or candidates) and the quantity, as the customer last said it.
struct DraftLine: Sendable {
    enum Target: Sendable, Equatable {
        case product(Int)
        case ambiguous(text: String, candidates: [Int])
    }
    var target: Target
    var text: String
    var quantity: Double
    var unit: String?
    /// The customer wrote the unit (else it is the catalogue's).
    var explicitUnit: Bool
    var quantityGiven: Bool
    var match: MatchKind
}

/// What a turn says about an order, before prices and confidence.
struct ParsedTurn: Sendable {
    var lines: [DraftLine]
    var unmatched: [UnmatchedItem]
    /// The turn asks for goods, changes an open order, or names products the catalogue lacks in an order.
    var isOrder: Bool
}

/// Reads a turn — one message or a burst — into order lines against a catalogue: items split by lines, commas
/// and "and"/"y"; quantities, units and sizes; questions, complaints and greetings left out; corrections,
/// cancellations, negations and repeats applied in order, the last word winning. Pure: no database, no clock.
public struct OrderParser: Sendable {
    public let index: CatalogIndex

    public init(index: CatalogIndex) { self.index = index }

    func parse(_ messages: [String], startingFrom existing: [DraftLine] = []) -> ParsedTurn {
        var state = TurnState(index: index, lines: existing)
        let reader = ClauseReader(index: index)
        var pendingBare: [Mention] = []
        for message in messages {
            var stickyCorrection = false
            var stickyRestate = false
            let linesBefore = state.lines.count
            for line in message.split(separator: "\n", omittingEmptySubsequences: true) {
                for sentence in Self.sentences(OrderTokenizer.tokenize(String(line))) {
                    for clause in sentence {
                        var reading = reader.read(clause.tokens)
                        if reading.mentions.isEmpty && reading.looseQuantities.isEmpty && reading.unmatched.isEmpty {
                            stickyCorrection = stickyCorrection || reading.correction
                            stickyRestate = stickyRestate || reading.restate
                            continue
                        }
                        reading.correction = reading.correction || stickyCorrection
                        reading.restate = reading.restate || stickyRestate
                        if reading.complaint { continue }
                        if clause.question && !(reading.requestVerb || clause.yesNo) {
                            // "is the mango good this week? send 2 boxes if yes": the product asked about.
                            if let m = reading.mentions.last(where: { !$0.negated }) { state.lastMentioned = m }
                            continue
                        }
                        state.apply(reading, pendingBare: &pendingBare)
                    }
                }
            }
            // A product named with no quantity and no order word ("cilantro") is an item only in a turn that orders.
            if state.ordered {
                for mention in pendingBare { state.set(mention, quantity: nil, reading: ClauseReading()) }
                pendingBare = []
            }
            if Self.splitsEvenly(message) { state.shareQuantity(from: linesBefore) }
        }
        return ParsedTurn(lines: state.lines, unmatched: state.unmatched, isOrder: state.ordered)
    }

    /// "a couple kilos of lemons and limes, half and half".
    static func splitsEvenly(_ message: String) -> Bool {
        let words = OrderTokenizer.tokenize(message).filter { $0.kind == .word }.map(\.text)
        return OrderLexicon.splitEvenly.contains { pattern in
            words.count >= pattern.count && (0...(words.count - pattern.count)).contains { Array(words[$0..<($0 + pattern.count)]) == pattern }
        }
    }

    struct Clause {
        var tokens: [OrderToken]
        var question = false
        /// A question with no question word ("¿me mandas 20 kg de cebolla?"): it asks for the goods.
        var yesNo = false
    }

    /// Sentences (split at "." "!" "?") of clauses (split at "," ";" ":" "+" "&" and "and"/"y"/"plus"), with the
    /// clauses that ask a question marked: from the last clause that starts with a question word, or the whole
    /// sentence when it ends with "?" and has none.
    static func sentences(_ raw: [OrderToken]) -> [[Clause]] {
        // "and a half" / "y medio" is part of a quantity, not a boundary.
        var tokens: [OrderToken] = []
        var i = 0
        while i < raw.count {
            let t = raw[i]
            if t.kind == .word, t.text == "and", i + 2 < raw.count, OrderLexicon.articleOne.contains(raw[i + 1].text), raw[i + 2].text == "half" {
                tokens.append(OrderToken(kind: .word, text: "andhalf"))
                i += 3
                continue
            }
            if t.kind == .word, t.text == "y", i + 1 < raw.count, raw[i + 1].text == "medio" || raw[i + 1].text == "media", i > 0,
                raw[i - 1].kind == .number || OrderLexicon.units[raw[i - 1].text] != nil
            {
                tokens.append(OrderToken(kind: .word, text: "andhalf"))
                i += 2
                continue
            }
            tokens.append(t)
            i += 1
        }
        var sentences: [[Clause]] = []
        var clauses: [Clause] = []
        var current: [OrderToken] = []
        func closeClause() {
            if !current.isEmpty { clauses.append(Clause(tokens: current)) }
            current = []
        }
        func closeSentence(question: Bool) {
            closeClause()
            guard !clauses.isEmpty else { return }
            let starts = clauses.indices.filter { startsQuestion(clauses[$0].tokens) }
            if let first = starts.last {
                for c in first..<clauses.count { clauses[c].question = true }
                if let head = starts.first, head == 0 { for c in clauses.indices { clauses[c].question = true } }
            } else if question {
                for c in clauses.indices { (clauses[c].question, clauses[c].yesNo) = (true, true) }
            }
            sentences.append(clauses)
            clauses = []
        }
        for t in tokens {
            switch t.kind {
            case .separator:
                if t.text == "." || t.text == "!" || t.text == "?" { closeSentence(question: t.text == "?") } else { closeClause() }
            case .word where t.text == "and" || t.text == "y" || t.text == "plus" || t.text == "&" || t.text == "but" || t.text == "pero":
                closeClause()
            default:
                current.append(t)
            }
        }
        closeSentence(question: false)
        return sentences
    }

    /// A clause opens with a question word, after greetings and interjections: "how much…", "do you have…", "¿cuánto…",
    /// "a qué hora…", "tienen…".
    static func startsQuestion(_ tokens: [OrderToken]) -> Bool {
        for t in tokens {
            guard t.kind == .word else { return false }
            if OrderLexicon.questionStarters.contains(t.text) { return true }
            if !OrderLexicon.openers.contains(t.text) { return false }
        }
        return false
    }
}

extension OrderParser {
    /// Extracts the order a turn states, on top of `existing` lines (an open draft the turn may amend).
    public func extract(_ messages: [String], amending existing: [OrderLine] = []) -> OrderExtraction {
        let skuIndex = Dictionary(index.products.enumerated().map { ($1.sku, $0) }, uniquingKeysWith: { a, _ in a })
        let start: [DraftLine] = existing.compactMap { line in
            let target: DraftLine.Target
            if let sku = line.sku {
                guard let p = skuIndex[sku] else { return nil }
                target = .product(p)
            } else {
                target = .ambiguous(text: line.text, candidates: line.candidates.compactMap { skuIndex[$0] })
            }
            return DraftLine(
                target: target, text: line.text, quantity: line.quantity, unit: line.unit, explicitUnit: true, quantityGiven: true, match: line.match)
        }
        let parsed = parse(messages, startingFrom: start)
        let lines = parsed.lines.filter { $0.quantity > 0 && $0.quantity < 100_000 }.map(orderLine)
        return OrderExtraction(isOrder: parsed.isOrder, lines: lines, unmatched: parsed.unmatched)
    }

    func orderLine(_ line: DraftLine) -> OrderLine {
        switch line.target {
        case .product(let p):
            let product = index.products[p]
            var confidence: Double =
                switch line.match {
                case .catalogueOrder, .person: 1
                case .exact: 0.97
                case .corrected: 0.85
                case .partial: 0.82
                case .similar: 0.65
                case .ambiguous: 0.4
                }
            if !line.quantityGiven { confidence -= 0.05 }
            let unit = line.unit ?? product.unit
            return OrderLine(
                sku: product.sku, productID: product.id, name: product.name, text: line.text, quantity: line.quantity, unit: unit,
                unitPriceCents: Self.unitPrice(product, unit: unit), confidence: confidence, match: line.match)
        case .ambiguous(let text, let candidates):
            return OrderLine(
                sku: nil, name: text, text: text, quantity: line.quantity, unit: line.unit, confidence: 0.4, match: .ambiguous,
                candidates: candidates.map { index.products[$0].sku })
        }
    }

    /// The price of one `unit` of a product: its price when sold in that unit, else converted through its pack
    /// ("box=18kg" on a product sold by the kg: a box is 18 × the kg price; "box=2kg" on one sold by the box: a kg
    /// is half the box price). nil when neither applies.
    public static func unitPrice(_ product: CatalogProduct, unit: String) -> Int? {
        guard let price = product.priceCents else { return nil }
        if unit == product.unit { return price }
        guard let pack = product.pack else { return nil }
        let parts = pack.split(separator: "=", maxSplits: 1).map { String($0) }
        guard parts.count == 2 else { return nil }
        let packUnit = parts[0].lowercased()
        let tokens = OrderTokenizer.tokenize(parts[1])
        guard let amount = tokens.first(where: { $0.kind == .number })?.value, amount > 0 else { return nil }
        let contentWord = tokens.first(where: { $0.kind == .word })?.text ?? product.unit
        let contentUnit = OrderLexicon.units[contentWord]?.unit ?? contentWord
        let contentAmount = amount * (OrderLexicon.units[contentWord]?.factor ?? 1)
        if unit == packUnit, contentUnit == product.unit { return Int((Double(price) * contentAmount).rounded()) }
        if packUnit == product.unit, unit == contentUnit { return Int((Double(price) / contentAmount).rounded()) }
        return nil
    }
}
