/// The lines of a turn as its clauses are applied in order.
struct TurnState {
    let index: CatalogIndex
    var lines: [DraftLine]
    var unmatched: [UnmatchedItem] = []
    var ordered = false
    /// The unit the customer last wrote, for "3 cajas de limes y 1 de lemons".
    var lastExplicitUnit: String?
    var lastTouched: Int?
    /// The product last named, in an order or a question, for "send 2 boxes" with no product.
    var lastMentioned: Mention?

    init(index: CatalogIndex, lines: [DraftLine]) {
        self.index = index
        self.lines = lines
        self.lastTouched = lines.isEmpty ? nil : lines.count - 1
    }

    mutating func apply(_ reading: ClauseReading, pendingBare: inout [Mention]) {
        for item in reading.unmatched {
            // A bare number before unknown words ("it's 123 main street") is an item only with a unit or an order word.
            // With no quantity at all ("y jengibre también") only beside lines already ordered.
            guard item.quantity?.unit != nil || (reading.orderCue && item.quantity != nil) || !lines.isEmpty else { continue }
            unmatched.append(UnmatchedItem(text: item.text, quantity: item.quantity?.value, unit: item.quantity?.unit))
            ordered = true
        }
        if let m = reading.mentions.last(where: { !$0.negated }) { lastMentioned = m }
        let withQuantity = reading.mentions.contains { $0.quantity != nil && !$0.negated }
        for mention in reading.mentions {
            if mention.negated {
                remove(mention)
                ordered = true
                continue
            }
            if mention.quantity != nil {
                set(mention, quantity: mention.quantity, reading: reading)
                ordered = true
            } else if reading.cancel {
                remove(mention)
                ordered = true
            } else if reading.correction, !withQuantity, let last = lastTouched, last < lines.count {
                // "make it sweet potatoes": the last line's product changes, its quantity stays.
                let resolved = resolve(mention, unit: lines[last].explicitUnit ? lines[last].unit : nil)
                lines[last].target = resolved.target
                lines[last].text = mention.text
                lines[last].match = resolved.match
                if !lines[last].explicitUnit { lines[last].unit = resolved.defaultUnit }
                ordered = true
            } else if reading.inquiry {
                continue
            } else if reading.orderCue || reading.addition {
                set(mention, quantity: nil, reading: reading)
                ordered = true
            } else if reading.bareItem, settlesAmbiguousLine(mention) {
                // "the roma ones": the answer to which product an ambiguous line meant.
                set(mention, quantity: nil, reading: reading)
                ordered = true
            } else if reading.bareItem {
                pendingBare.append(mention)
            }
        }
        // "send 2 boxes" after a question about a product: that product.
        if reading.mentions.isEmpty, reading.unmatched.isEmpty, let q = reading.looseQuantities.first, !reading.correction, !reading.addition,
            !q.addCue, q.unit != nil, reading.orderCue || reading.requestVerb, lines.isEmpty, let named = lastMentioned
        {
            var m = named
            m.quantity = q
            set(m, quantity: q, reading: reading)
            ordered = true
            return
        }
        // "actually make it 6", "no mejor 8", "2 more": the last line's quantity.
        if reading.mentions.isEmpty, reading.unmatched.isEmpty, let q = reading.looseQuantities.first,
            reading.correction || q.addCue || reading.addition,
            let last = lastTouched, last < lines.count
        {
            if q.addCue || (reading.addition && !reading.correction) {
                if q.unit == nil || q.unit == lines[last].unit { lines[last].quantity += q.value }
            } else {
                lines[last].quantity = q.value
                if let unit = q.unit {
                    lines[last].unit = unit
                    lines[last].explicitUnit = true
                }
            }
            lines[last].quantityGiven = true
            ordered = true
        }
    }

    /// One quantity shared evenly: the first line written in this message with a quantity, and the lines after it
    /// with none, each get an equal share in its unit.
    mutating func shareQuantity(from first: Int) {
        guard let head = lines.indices.first(where: { $0 >= first && lines[$0].quantityGiven }) else { return }
        let sharing = [head] + lines.indices.filter { $0 > head && !lines[$0].quantityGiven }
        guard sharing.count > 1 else { return }
        let share = lines[head].quantity / Double(sharing.count)
        for i in sharing {
            lines[i].quantity = share
            lines[i].unit = lines[head].unit
            lines[i].explicitUnit = lines[head].explicitUnit
            lines[i].quantityGiven = true
        }
    }

    struct Resolution {
        var target: DraftLine.Target
        var match: MatchKind
        var defaultUnit: String?
    }

    /// The product a mention names: one product, or narrowed by the unit written ("a sack of rice") and the size
    /// ("the 1L olive oil"); several left means the line is ambiguous.
    func resolve(_ mention: Mention, unit: String?) -> Resolution {
        var candidates = mention.products
        if let size = mention.size {
            let sized = candidates.filter { index.sizes[$0].contains(size) }
            if !sized.isEmpty { candidates = sized }
        }
        if candidates.count > 1, let unit {
            let byUnit = candidates.filter { index.units[$0].contains(unit) }
            if !byUnit.isEmpty { candidates = byUnit }
        }
        // A unit the named product is not sold or packed in, that exactly one product sharing the words is: the unit
        // settles it ("2 bottles of milk" is the 5 L bottle when plain "milk" is the 1 L carton).
        if candidates.count == 1, let unit, !index.units[candidates[0]].contains(unit) {
            let key = mention.text.split(separator: " ").map { CatalogIndex.canonical(String($0)) }.filter { !OrderLexicon.connectors.contains($0) }
                .joined(separator: " ")
            let sold = (index.partialKeys[key] ?? []).filter { index.units[$0].contains(unit) }
            if sold.count == 1 { return Resolution(target: .product(sold[0]), match: .partial, defaultUnit: index.products[sold[0]].unit) }
        }
        if candidates.count == 1 {
            let p = candidates[0]
            let match: MatchKind = mention.products.count == 1 && mention.exact ? (mention.fuzzy ? .corrected : .exact) : .partial
            return Resolution(target: .product(p), match: match, defaultUnit: index.products[p].unit)
        }
        let units = Set(candidates.map { index.products[$0].unit })
        return Resolution(
            target: .ambiguous(text: mention.text, candidates: candidates), match: .ambiguous, defaultUnit: units.count == 1 ? units.first : nil)
    }

    mutating func set(_ mention: Mention, quantity q: Quantity?, reading: ClauseReading) {
        var unit = q?.unit
        var explicit = unit != nil
        if unit == nil, let inside = mention.unitInside { (unit, explicit) = (inside.unit, true) }
        if !explicit, q?.ofMarker == true, let last = lastExplicitUnit { (unit, explicit) = (last, true) }
        let resolved = resolve(mention, unit: explicit ? unit : nil)
        if !explicit { unit = resolved.defaultUnit }
        let value = q?.value ?? 1
        if let existing = lines.firstIndex(where: { same($0.target, resolved.target) }) {
            var line = lines[existing]
            let sameUnit = !explicit || line.unit == unit
            if (q?.addCue == true || (reading.addition && !reading.correction)) && q != nil && sameUnit {
                line.quantity += value
            } else if reading.restate || (sameUnit && line.quantity == value) {
                // A restatement changes nothing.
            } else if q != nil {
                line.quantity = value
                if explicit {
                    line.unit = unit
                    line.explicitUnit = true
                }
                line.quantityGiven = true
            }
            lines[existing] = line
            lastTouched = existing
        } else if case .product(let product) = resolved.target,
            let vague = lines.firstIndex(where: { line in
                guard case .ambiguous(_, let candidates) = line.target else { return false }
                return candidates.contains(product) && (!line.quantityGiven || q == nil)
            })
        {
            // One of an ambiguous line's candidates named later settles it: "tomatoes … 5 kg of roma" in one burst, or the
            // answer "the roma ones" to the question about an open draft's line. The quantity written last wins.
            var line = lines[vague]
            line.target = resolved.target
            line.match = resolved.match
            line.text = mention.text
            if q != nil {
                line.quantity = value
                line.quantityGiven = true
            }
            if explicit {
                (line.unit, line.explicitUnit) = (unit, true)
            } else if line.unit == nil || !line.explicitUnit {
                line.unit = unit
            }
            lines[vague] = line
            lastTouched = vague
        } else {
            lines.append(
                DraftLine(
                    target: resolved.target, text: mention.text, quantity: value, unit: unit, explicitUnit: explicit, quantityGiven: q != nil,
                    match: resolved.match))
            lastTouched = lines.count - 1
        }
        if explicit, q?.unit != nil { lastExplicitUnit = q?.unit }
    }

    private func same(_ a: DraftLine.Target, _ b: DraftLine.Target) -> Bool {
        switch (a, b) {
        case (.product(let x), .product(let y)): return x == y
        case (.ambiguous(let t1, let c1), .ambiguous(let t2, let c2)): return t1 == t2 || Set(c1) == Set(c2)
        default: return false
        }
    }

    /// Whether the mention names one product that is a candidate of an ambiguous line.
    func settlesAmbiguousLine(_ mention: Mention) -> Bool {
        guard case .product(let product) = resolve(mention, unit: nil).target else { return false }
        return lines.contains { line in
            if case .ambiguous(_, let candidates) = line.target { return candidates.contains(product) }
            return false
        }
    }

    /// Takes off every line the mention could mean: "forget the onions" removes white, red or green onions.
    mutating func remove(_ mention: Mention) {
        var products = Set(mention.products)
        let words = mention.text.split(separator: " ")
        if words.count == 1 {
            let stem = CatalogIndex.canonical(String(words[0]))
            if CatalogIndex.isStrong(stem), let more = index.partialKeys[stem] { products.formUnion(more) }
        }
        lines.removeAll { line in
            switch line.target {
            case .product(let p): return products.contains(p)
            case .ambiguous(_, let candidates): return !products.isDisjoint(with: candidates)
            }
        }
        lastTouched = lines.isEmpty ? nil : lines.count - 1
    }
}
