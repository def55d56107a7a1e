/// Reads one clause of a message against the catalogue.
struct ClauseReader {
    let index: CatalogIndex

    func read(_ tokens: [OrderToken]) -> ClauseReading {
        var reading = ClauseReading()
        let words = tokens.map { $0.kind == .word ? $0.text : "" }
        for w in words where !w.isEmpty {
            if OrderLexicon.complaintCues.contains(w) { reading.complaint = true }
            if OrderLexicon.correctionCues.contains(w) { reading.correction = true }
            if OrderLexicon.cancelVerbs.contains(w) { reading.cancel = true }
            if OrderLexicon.additionCues.contains(w) { reading.addition = true }
            if OrderLexicon.restateCues.contains(w) { reading.restate = true }
            if OrderLexicon.orderCues.contains(w) { reading.orderCue = true }
            if OrderLexicon.requestVerbs.contains(w) { reading.requestVerb = true }
            if OrderLexicon.inquiryWords.contains(w) { reading.inquiry = true }
        }
        // "no, mejor 8" / "no 8": a leading "no" before a number corrects.
        if let first = words.first, first == "no", tokens.count > 1, tokens[1].kind != .word || words[1] == "mejor" { reading.correction = true }
        reading.mentions = mentions(in: tokens)
        var covered = [Bool](repeating: false, count: tokens.count)
        for m in reading.mentions { for i in m.start..<m.end { covered[i] = true } }
        var quantities = self.quantities(in: tokens, covered: covered, mentions: reading.mentions)
        markSizes(&quantities, tokens: tokens, mentions: &reading.mentions)
        attach(&quantities, to: &reading.mentions)
        markNegations(tokens: tokens, mentions: &reading.mentions, cancel: reading.cancel)
        findUnknownProducts(tokens: tokens, covered: covered, quantities: &quantities, reading: &reading)
        reading.looseQuantities = quantities.filter { !$0.claimed && !$0.isSize }
        for (i, token) in tokens.enumerated() where !covered[i] && token.kind == .word {
            if !(OrderLexicon.fillers.contains(token.text) || OrderLexicon.units[token.text] != nil || OrderLexicon.numberWords[token.text] != nil
                || OrderLexicon.connectors.contains(token.text) || OrderLexicon.harmlessModifiers.contains(token.text) || token.text == "x"
                || OrderLexicon.orderCues.contains(token.text))
            {
                reading.bareItem = false
            }
        }
        return reading
    }

    // MARK: Products

    /// The longest name, alias or part of one at each position; whole names beat parts of the same length.
    func mentions(in tokens: [OrderToken]) -> [Mention] {
        var content: [(index: Int, stem: String, fuzzy: Bool)] = []
        for (i, token) in tokens.enumerated() {
            switch token.kind {
            case .separator: continue
            case .number: content.append((i, token.text, false))
            case .word:
                if OrderLexicon.connectors.contains(token.text) { continue }
                let stem = CatalogIndex.canonical(token.text)
                if isLexiconWord(token.text) || index.vocabulary.contains(stem) {
                    content.append((i, stem, false))
                } else if let corrected = index.correct(stem) {
                    content.append((i, corrected.stem, corrected.fuzzy))
                } else {
                    content.append((i, stem, false))
                }
            }
        }
        var found: [Mention] = []
        var p = 0
        while p < content.count {
            var hit: Mention?
            for length in stride(from: min(index.maxKeyLength, content.count - p), through: 1, by: -1) {
                let slice = content[p..<(p + length)]
                let key = slice.map(\.stem).joined(separator: " ")
                let exact = index.exactKeys[key]
                let products = exact ?? index.partialKeys[key]
                guard let products else { continue }
                // A lone number, unit word or common word ("still" of "still water") is never a product by itself.
                if length == 1, exact == nil, !CatalogIndex.isStrong(slice.first!.stem) || isLexiconWord(tokens[slice.first!.index].text) { continue }
                if length == 1, tokens[slice.first!.index].kind == .number { continue }
                let start = slice.first!.index
                let end = slice.last!.index + 1
                let text = tokens[start..<end].filter { $0.kind != .separator }.map(\.text).joined(separator: " ")
                var unitInside: (String, Double)?
                for t in tokens[start..<end] where t.kind == .word {
                    if let u = OrderLexicon.units[t.text], !OrderLexicon.measureUnits.contains(u.unit) { unitInside = u }
                }
                hit = Mention(
                    start: start, end: end, products: products, exact: exact != nil, fuzzy: slice.contains { $0.fuzzy }, text: text,
                    unitInside: unitInside)
                p += length
                break
            }
            if let hit { found.append(hit) } else { p += 1 }
        }
        // The same product named twice in a row ("fresa 🍓🍓"), or a general word next to the specific product it
        // covers ("🍅 x 2 boxes cherry"), is one mention.
        var merged: [Mention] = []
        for m in found {
            if let i = merged.indices.last(where: { overlapsAsSame(merged[$0], m) }) {
                let keep = specificity(m) > specificity(merged[i]) ? m : merged[i]
                merged[i] = keep
                merged[i].start = min(merged[i].start, m.start)
                merged[i].end = max(merged[i].end, m.end)
                continue
            }
            merged.append(m)
        }
        return merged
    }

    private func overlapsAsSame(_ a: Mention, _ b: Mention) -> Bool {
        if a.products == b.products { return true }
        let sa = Set(a.products)
        let sb = Set(b.products)
        return (a.products.count == 1 && sb.isSuperset(of: sa) && !b.exact) || (b.products.count == 1 && sa.isSuperset(of: sb) && !a.exact)
    }

    private func specificity(_ m: Mention) -> Int { (m.products.count == 1 ? 10 : 0) + (m.exact ? 5 : 0) - m.products.count }

    func isLexiconWord(_ w: String) -> Bool {
        OrderLexicon.fillers.contains(w) || OrderLexicon.units[w] != nil || OrderLexicon.numberWords[w] != nil || OrderLexicon.connectors.contains(w)
            || OrderLexicon.harmlessModifiers.contains(w) || OrderLexicon.questionStarters.contains(w) || OrderLexicon.complaintCues.contains(w)
            || OrderLexicon.negations.contains(w) || OrderLexicon.cancelVerbs.contains(w) || OrderLexicon.correctionCues.contains(w)
            || OrderLexicon.restateCues.contains(w) || OrderLexicon.timeWords.contains(w) || OrderLexicon.pair.contains(w)
            || OrderLexicon.half.contains(w)
    }

    // MARK: Quantities

    func quantities(in tokens: [OrderToken], covered: [Bool], mentions: [Mention]) -> [Quantity] {
        var out: [Quantity] = []
        let mentionAt = Dictionary(mentions.map { ($0.start, $0) }, uniquingKeysWith: { a, _ in a })
        func word(_ i: Int) -> String? { i < tokens.count && tokens[i].kind == .word && !covered[i] ? tokens[i].text : nil }
        func unit(at i: Int) -> (unit: String, factor: Double)? {
            guard let w = word(i) else { return nil }
            if let u = OrderLexicon.units[w] { return u }
            // A unit word with a typo right after a number ("3 cajs", "5 kilso"): one edit from unit words that agree.
            guard w.count >= 4, i > 0, tokens[i - 1].kind == .number, !isLexiconWord(w), index.correct(CatalogIndex.stem(w)) == nil else {
                return nil
            }
            let near = Set(
                OrderLexicon.units.filter { $0.key.count >= 4 && CatalogIndex.editDistance(w, $0.key, limit: 1) <= 1 }.map {
                    "\($0.value.unit) \($0.value.factor)"
                })
            guard near.count == 1, let first = near.first,
                let u = OrderLexicon.units.first(where: { "\($0.value.unit) \($0.value.factor)" == first })?.value
            else { return nil }
            return u
        }
        /// Reads an optional unit (and "and a half", "de") after a number ending at `j`.
        func finish(_ start: Int, _ value: Double, _ j0: Int, allowBareUnitOnly: Bool = false) -> Quantity {
            var j = j0
            var q = Quantity(start: start, end: j, value: value)
            while let w = word(j), OrderLexicon.additionCues.contains(w) {
                q.addCue = true
                j += 1
            }
            if let u = unit(at: j) {
                q.unit = u.unit
                q.value *= u.factor
                j += 1
            } else if let m = mentionAt[j], let u = m.unitInside {
                q.unit = u.unit
            }
            // "kilo y medio", "2 and a half kg"
            if let w = word(j), w == "andhalf" {
                q.value += 0.5
                j += 1
                if q.unit == nil, let u = unit(at: j) {
                    q.unit = u.unit
                    q.value *= u.factor
                    j += 1
                }
            }
            if q.unit == nil, let w = word(j), w == "de" || w == "of" { q.ofMarker = true }
            q.end = j
            return q
        }
        var i = 0
        while i < tokens.count {
            if covered[i] {
                i += 1
                continue
            }
            let token = tokens[i]
            let previous = i > 0 && tokens[i - 1].kind == .word ? tokens[i - 1].text : ""
            if token.kind == .number {
                let next = word(i + 1) ?? ""
                // Prices and times are not quantities: "at 3.50", "$4", "a las 8", "10 am", "3.50 per kilo".
                if OrderLexicon.priceOrTimeMarkers.contains(previous) || OrderLexicon.timeWords.contains(next)
                    || !(token.value > 0 && token.value < 100_000)
                    || ((next == "per" || next == "por" || next == "el" || next == "a") && unit(at: i + 2) != nil)
                {
                    i += 1
                    continue
                }
                var value = token.value
                var j = i + 1
                if j < tokens.count, tokens[j].kind == .number, tokens[j].text.contains("/"), tokens[j].value < 1 {
                    value += tokens[j].value
                    j += 1
                }
                if let w = word(j), w == "x" { j += 1 }  // "2 x roma", "2x"
                out.append(finish(i, value, j))
                i = max(out.last!.end, i + 1)
                continue
            }
            guard token.kind == .word else {
                i += 1
                continue
            }
            let w = token.text
            if w == "x", i + 1 < tokens.count, tokens[i + 1].kind == .number {  // "x2", "x 2"
                out.append(finish(i, tokens[i + 1].value, i + 2))
                i = out.last!.end
                continue
            }
            if let n = OrderLexicon.numberWords[w] {
                out.append(finish(i, n, i + 1))
                i = max(out.last!.end, i + 1)
                continue
            }
            if OrderLexicon.half.contains(w) {
                // "half a kilo", "medio kilo", "media docena"; "half rotten" is not a quantity.
                var j = i + 1
                if let a = word(j), OrderLexicon.articleOne.contains(a) { j += 1 }
                if unit(at: j) != nil {
                    out.append(finish(i, 0.5, j))
                    i = out.last!.end
                    continue
                }
            }
            if OrderLexicon.pair.contains(w) || (OrderLexicon.articleOne.contains(w) && word(i + 1).map(OrderLexicon.pair.contains) == true) {
                // "a couple of", "couple", "un par de"
                var j = OrderLexicon.pair.contains(w) ? i + 1 : i + 2
                if let of = word(j), of == "of" || of == "de" { j += 1 }
                var q = finish(i, 2, j)
                q.ofMarker = false
                out.append(q)
                i = max(q.end, i + 1)
                continue
            }
            // "kilo y medio de queso", "caja de mango": a unit word with no number is one of it.
            if let u = unit(at: i), !OrderLexicon.unitsOnlyAfterQuantity.contains(w), i + 1 < tokens.count,
                word(i + 1) == "andhalf" || word(i + 1) == "de" || word(i + 1) == "of", previous.isEmpty || OrderLexicon.fillers.contains(previous)
            {
                var q = Quantity(start: i, end: i + 1, value: u.factor, unit: u.unit)
                if word(i + 1) == "andhalf" {
                    q.value += 0.5 * u.factor
                    q.end += 1
                }
                out.append(q)
                i = q.end
                continue
            }
            if OrderLexicon.articleOne.contains(w) {
                let next = i + 1
                if let a = word(next), OrderLexicon.half.contains(a), unit(at: next + 1) != nil {  // "a half kilo"
                    out.append(finish(i, 0.5, next + 1))
                    i = out.last!.end
                    continue
                }
                if unit(at: next) != nil || mentionAt[next] != nil || (word(next).map(OrderLexicon.additionCues.contains) ?? false) {
                    var q = finish(i, 1, next)
                    q.ofMarker = false
                    out.append(q)
                    i = max(q.end, i + 1)
                    continue
                }
            }
            i += 1
        }
        return out
    }

    /// Sizes are not quantities: "the 5 L olive oil", "agua de 500ml", "2 sacks of rice 25kg".
    func markSizes(_ quantities: inout [Quantity], tokens: [OrderToken], mentions: inout [Mention]) {
        for qi in quantities.indices where quantities[qi].isMeasure {
            let q = quantities[qi]
            let before = q.start > 0 && tokens[q.start - 1].kind == .word ? tokens[q.start - 1].text : ""
            let others = quantities.indices.contains { $0 != qi && !quantities[$0].isMeasure }
            let countBefore = quantities.indices.contains { $0 != qi && !quantities[$0].isMeasure && quantities[$0].end <= q.start }
            // The mention right after (past connectors) or right before.
            var after = q.end
            while after < tokens.count, tokens[after].kind == .word, OrderLexicon.connectors.contains(tokens[after].text) { after += 1 }
            let following = mentions.firstIndex { $0.start == after }
            let preceding = mentions.firstIndex { $0.end == q.start || ($0.end == q.start - 1 && (before == "de" || before == "of")) }
            var isSize = false
            var target: Int?
            if ["the", "el", "la", "los", "las", "del"].contains(before), let following {
                (isSize, target) = (true, following)
            } else if others, let preceding {
                (isSize, target) = (true, preceding)
            } else if countBefore, let following, before == "de" || before == "of" || after == q.end {
                // "2 cajas de 5 kg de tomate", "2 x 5L olive oil"
                (isSize, target) = (true, following)
            }
            if isSize, let target, let value = tokens[q.start].kind == .number ? Optional(tokens[q.start].value) : nil {
                quantities[qi].isSize = true
                let factor = OrderLexicon.units[tokens[q.end - 1].text]?.factor ?? 1
                mentions[target].size = CatalogIndex.sizeKey(value * factor, unitWord: q.unit == "kg" ? "kg" : "l")
            }
        }
    }

    /// Each product takes the nearest free quantity before it (after the previous product), else the nearest after
    /// it (before the next product): "5 kg roma y 2 cajas de cebolla", "roma 10", "aguacate 2 cajas".
    func attach(_ quantities: inout [Quantity], to mentions: inout [Mention]) {
        for mi in mentions.indices {
            let lower = mi > 0 ? mentions[mi - 1].end : 0
            let upper = mi + 1 < mentions.count ? mentions[mi + 1].start : Int.max
            let before = quantities.indices.last {
                !quantities[$0].claimed && !quantities[$0].isSize && quantities[$0].start >= lower && quantities[$0].end <= mentions[mi].start
            }
            let after = quantities.indices.first {
                !quantities[$0].claimed && !quantities[$0].isSize && quantities[$0].start >= mentions[mi].end && quantities[$0].start < upper
            }
            if let pick = before ?? after {
                quantities[pick].claimed = true
                mentions[mi].quantity = quantities[pick]
            }
        }
    }

    /// "no cebolla", "sin cebolla", "no quiero cilantro", "we don't need onions", "forget the onions".
    func markNegations(tokens: [OrderToken], mentions: inout [Mention], cancel: Bool) {
        for mi in mentions.indices {
            var i = mentions[mi].start - 1
            let lower = mi > 0 ? mentions[mi - 1].end : 0
            while i >= lower {
                let t = tokens[i]
                guard t.kind == .word else { break }
                if OrderLexicon.negations.contains(t.text) || OrderLexicon.cancelVerbs.contains(t.text) {
                    mentions[mi].negated = true
                    break
                }
                if !(OrderLexicon.fillers.contains(t.text) || OrderLexicon.connectors.contains(t.text)
                    || OrderLexicon.harmlessModifiers.contains(t.text)
                    || t.text == "need" || t.text == "want" || t.text == "any")
                {
                    break
                }
                i -= 1
            }
        }
    }

    // MARK: Unknown products

    private func isUnknownWord(_ t: OrderToken) -> Bool {
        guard t.kind == .word, t.text.count >= 3 else { return false }
        if isLexiconWord(t.text) || OrderLexicon.requestVerbs.contains(t.text) || OrderLexicon.orderCues.contains(t.text)
            || OrderLexicon.additionCues.contains(t.text)
        {
            return false
        }
        let stem = CatalogIndex.canonical(t.text)
        return index.correct(stem) == nil
    }

    /// Products the catalogue does not carry: the words a free quantity is followed by ("2 kgs kale", "1 case of
    /// coke"), and a known product word with an unknown word in front ("quail eggs") or after "de" ("huevos de
    /// codorniz"), which is a different product that looks like ours.
    func findUnknownProducts(tokens: [OrderToken], covered: [Bool], quantities: inout [Quantity], reading: inout ClauseReading) {
        // "y jengibre también", "also some kale": an order word and one or two unknown words, nothing else.
        if quantities.isEmpty, reading.mentions.isEmpty, reading.orderCue || reading.addition {
            let unknown = tokens.indices.filter { isUnknownWord(tokens[$0]) }
            let known = tokens.indices.filter { tokens[$0].kind == .word && !isUnknownWord(tokens[$0]) }
            if (1...2).contains(unknown.count), unknown.last! - unknown.first! == unknown.count - 1, known.count <= 3 {
                reading.unmatched.append((unknown.map { tokens[$0].text }.joined(separator: " "), nil))
            }
        }
        for qi in quantities.indices where !quantities[qi].claimed && !quantities[qi].isSize {
            var j = quantities[qi].end
            while j < tokens.count, tokens[j].kind == .word,
                OrderLexicon.connectors.contains(tokens[j].text) || OrderLexicon.harmlessModifiers.contains(tokens[j].text)
            { j += 1 }
            var words: [String] = []
            while j < tokens.count, !covered[j], isUnknownWord(tokens[j]), words.count < 3 {
                words.append(tokens[j].text)
                j += 1
            }
            if !words.isEmpty {
                quantities[qi].claimed = true
                reading.unmatched.append((words.joined(separator: " "), quantities[qi]))
            }
        }
        var kept: [Mention] = []
        for m in reading.mentions {
            var lookalike: [String] = []
            var i = m.start - 1
            while i >= 0, !covered[i], isUnknownWord(tokens[i]) {
                lookalike.insert(tokens[i].text, at: 0)
                i -= 1
            }
            var trailing: [String] = []
            if m.end + 1 < tokens.count, tokens[m.end].kind == .word, tokens[m.end].text == "de" {
                var k = m.end + 1
                while k < tokens.count, !covered[k], isUnknownWord(tokens[k]), trailing.count < 2 {
                    trailing.append(tokens[k].text)
                    k += 1
                }
            }
            if (!lookalike.isEmpty && lookalike.count <= 2 && m.quantity != nil) || (!trailing.isEmpty && m.quantity != nil) {
                reading.unmatched.append(((lookalike + [m.text] + (trailing.isEmpty ? [] : ["de"] + trailing)).joined(separator: " "), m.quantity))
                continue
            }
            kept.append(m)
        }
        reading.mentions = kept
    }
}
