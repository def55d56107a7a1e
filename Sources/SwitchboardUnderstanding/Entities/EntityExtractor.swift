import SwitchboardKnowledge

/// Finds order and invoice ids, amounts, emails, phone numbers, card numbers, people's names, places and dates in a
/// turn, in English and Spanish.
///
/// Hand-written scanners over the text's scalars, one pass each, rather than regular expressions: every scanner is
/// linear, so a 100 KB paste costs milliseconds and cannot backtrack. Where two findings overlap, the more specific one
/// wins (an email over the name inside it, an order id over a phone-like number after "order").
public struct EntityExtractor: Sendable {
    /// The country calling code for numbers written without one (e.g. 1 for the US, 34 for Spain); nil leaves such
    /// numbers without an E.164 form.
    public var defaultCallingCode: String?

    public init(defaultCallingCode: String? = nil) { self.defaultCallingCode = defaultCallingCode }

    static let orderWords: Set<String> = ["order", "orders", "purchase", "purchases", "pedido", "pedidos", "orden", "compra", "compras", "ord"]
    static let invoiceWords: Set<String> = ["invoice", "invoices", "bill", "bills", "receipt", "factura", "facturas", "recibo", "nota"]
    static let fillerWords: Set<String> = [
        "number", "num", "no", "nr", "id", "is", "nº", "numero", "n", "ref", "reference", "my", "mi", "el", "la", "with", "con", "de", "code",
        "codigo",
    ]
    static let phoneWords: Set<String> = [
        "phone", "telephone", "tel", "mobile", "cell", "cellphone", "whatsapp", "call", "text", "telefono", "celular", "movil", "cel", "llamar",
        "llamame", "llamenme", "numero", "number",
    ]
    static let currencyWords: [String: String] = [
        "dollar": "USD", "dollars": "USD", "usd": "USD", "bucks": "USD", "dolar": "USD", "dolares": "USD", "euro": "EUR", "euros": "EUR",
        "eur": "EUR", "peso": "MXN", "pesos": "MXN", "mxn": "MXN", "pound": "GBP", "pounds": "GBP", "gbp": "GBP", "libras": "GBP",
        "cad": "CAD", "cop": "COP", "ars": "ARS", "clp": "CLP",
    ]
    static let currencySymbols: [Unicode.Scalar: String] = ["$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"]
    static let honorifics: Set<String> = [
        "mr", "mrs", "ms", "miss", "dr", "sr", "sra", "srta", "don", "dona", "doña", "mister", "señor", "senor", "señora", "senora",
    ]
    static let nameLeads: [[String]] = [["my", "name", "is"], ["me", "llamo"], ["mi", "nombre", "es"], ["name", "is"], ["nombre"], ["name"]]
    static let capitalNameLeads: [[String]] = [["i", "am"], ["im"], ["this", "is"], ["soy"], ["habla"], ["le", "habla"], ["it's"], ["its"]]
    static let notNames: Set<String> = [
        "the", "a", "an", "not", "and", "y", "from", "de", "in", "en", "here", "aqui", "calling", "writing", "looking", "trying", "going",
        "very", "so", "muy", "your", "su", "tu", "sorry", "customer", "cliente", "please", "hungry", "interested", "happy", "sad", "angry",
    ]
    static let months: [String: Int] = [
        "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8, "september": 9, "october": 10,
        "november": 11, "december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
        "oct": 10, "nov": 11, "dec": 12, "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
        "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    ]
    static let relativeDays: Set<String> = [
        "today", "tomorrow", "yesterday", "tonight", "hoy", "manana", "ayer", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", "sunday", "lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo",
    ]

    /// Every entity in `text`, in order of position.
    public func extract(_ text: String) -> [Entity] {
        let scan = Scan(text)
        var found: [(priority: Int, entity: Entity)] = []
        found += scan.emails().map { (0, $0) }
        found += scan.cardNumbers().map { (1, $0) }
        found += scan.keyedIDs(keywords: Self.invoiceWords, kind: .invoiceID).map { (2, $0) }
        found += scan.keyedIDs(keywords: Self.orderWords, kind: .orderID).map { (2, $0) }
        found += scan.amounts().map { (3, $0) }
        found += scan.phones(defaultCallingCode: defaultCallingCode).map { (4, $0) }
        found += scan.hashIDs().map { (5, $0) }
        found += scan.dates().map { (6, $0) }
        found += scan.names().map { (7, $0) }
        found += scan.places().map { (8, $0) }
        var kept: [Entity] = []
        for candidate in found.sorted(by: { $0.priority != $1.priority ? $0.priority < $1.priority : $0.entity.start < $1.entity.start }) {
            let e = candidate.entity
            if kept.contains(where: { $0.start < e.end && e.start < $0.end }) { continue }
            kept.append(e)
        }
        return kept.sorted { $0.start < $1.start }
    }
}

/// A word of the text: its folded form and its scalar range.
struct Word {
    var folded: String
    var original: String
    var start: Int
    var end: Int
    var isCapitalized: Bool { original.first?.isUppercase == true }
    var hasDigit: Bool { original.contains(where: \.isNumber) }
}

/// One text, split once into scalars and words, with the scanners.
struct Scan {
    let scalars: [Unicode.Scalar]
    let words: [Word]

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        var words: [Word] = []
        var i = 0
        while i < scalars.count {
            guard Scan.isWordScalar(scalars[i]) else {
                i += 1
                continue
            }
            var j = i
            // Words keep inner `-`, `.`, `'` and `#` between word scalars (A-10293, u.s., don't), not at the ends.
            while j < scalars.count,
                Scan.isWordScalar(scalars[j])
                    || (j + 1 < scalars.count && "-'.".unicodeScalars.contains(scalars[j]) && Scan.isWordScalar(scalars[j + 1]) && j > i)
            {
                j += 1
            }
            let original = String(String.UnicodeScalarView(scalars[i..<j]))
            words.append(Word(folded: TextFolding.fold(original), original: original, start: i, end: j))
            i = j
        }
        self.words = words
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool { s.properties.isAlphabetic || ("0"..."9").contains(s) }

    func text(_ start: Int, _ end: Int) -> String { String(String.UnicodeScalarView(scalars[start..<end])) }

    func isDigit(_ i: Int) -> Bool { i >= 0 && i < scalars.count && ("0"..."9").contains(scalars[i]) }

    // MARK: Emails

    func emails() -> [Entity] {
        var out: [Entity] = []
        for (i, s) in scalars.enumerated() where s == "@" {
            var a = i
            while a > 0, isEmailLocal(scalars[a - 1]) { a -= 1 }
            var b = i + 1
            while b < scalars.count, isEmailDomain(scalars[b]) { b += 1 }
            while b > i + 1, scalars[b - 1] == "." || scalars[b - 1] == "-" { b -= 1 }
            while a < i, scalars[a] == "." { a += 1 }
            guard a < i, b > i + 1 else { continue }
            let domain = text(i + 1, b)
            let labels = domain.split(separator: ".")
            guard labels.count >= 2, let tld = labels.last, tld.count >= 2, tld.allSatisfy(\.isLetter) else { continue }
            let raw = text(a, b)
            out.append(Entity(kind: .email, text: raw, value: raw.lowercased(), start: a, end: b))
        }
        return out
    }

    private func isEmailLocal(_ s: Unicode.Scalar) -> Bool {
        s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || "._%+-".unicodeScalars.contains(s))
    }
    private func isEmailDomain(_ s: Unicode.Scalar) -> Bool {
        s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || ".-".unicodeScalars.contains(s))
    }

    // MARK: Numbers: runs of digits with the separators people type inside them

    /// A run starting at `i`: digits, spaces, `-`, `.`, `(`, `)`, `/` between digits, optionally a leading `+`.
    struct DigitRun {
        var start: Int
        var end: Int
        var digits: String
        var plus: Bool
        var separated: Bool
    }

    func digitRuns() -> [DigitRun] {
        var runs: [DigitRun] = []
        var i = 0
        while i < scalars.count {
            let startsPlus = scalars[i] == "+" && isDigit(i + 1)
            let startsParen = scalars[i] == "(" && isDigit(i + 1)
            guard isDigit(i) || startsPlus || startsParen, i == 0 || !Scan.isWordScalar(scalars[i - 1]) || !isDigit(i) else {
                i += 1
                continue
            }
            var j = i + ((startsPlus || startsParen) ? 1 : 0)
            var digits = ""
            var separated = startsParen
            var lastDigit = j
            while j < scalars.count {
                if isDigit(j) {
                    digits.unicodeScalars.append(scalars[j])
                    lastDigit = j
                    j += 1
                } else if " -.()/".unicodeScalars.contains(scalars[j]),
                    isDigit(j + 1) || (scalars[j] == ")" && (isDigit(j + 2) || isDigit(j + 1)))
                        || (scalars[j] == " " && j + 1 < scalars.count && scalars[j + 1] == "(")
                {
                    separated = true
                    j += 1
                } else {
                    break
                }
            }
            let end = lastDigit + 1
            if !digits.isEmpty, end >= scalars.count || !scalars[end].properties.isAlphabetic {
                runs.append(DigitRun(start: i, end: end, digits: digits, plus: startsPlus, separated: separated))
            }
            i = max(end, i + 1)
        }
        return runs
    }

    // MARK: Card numbers (13–19 digits passing Luhn): personal data

    func cardNumbers() -> [Entity] {
        digitRuns().filter { run in
            guard (13...19).contains(run.digits.count), !run.plus, luhn(run.digits) else { return false }
            // A number right after "order" or "invoice" is that id, whatever its checksum.
            let before = words.filter { $0.end <= run.start }.suffix(3)
            return !before.contains { Scan.isIDKeyword($0.folded, EntityExtractor.orderWords.union(EntityExtractor.invoiceWords)) }
        }.map {
            Entity(kind: .cardNumber, text: text($0.start, $0.end), value: $0.digits, start: $0.start, end: $0.end)
        }
    }

    private func luhn(_ digits: String) -> Bool {
        var sum = 0
        for (n, c) in digits.reversed().enumerated() {
            var d = Int(String(c))!
            if n % 2 == 1 {
                d *= 2
                if d > 9 { d -= 9 }
            }
            sum += d
        }
        return sum % 10 == 0
    }

    // MARK: Order and invoice ids: an id-like word shortly after a keyword

    func keyedIDs(keywords: Set<String>, kind: Entity.Kind) -> [Entity] {
        var out: [Entity] = []
        for (w, word) in words.enumerated() {
            // Glued to its keyword: "order113542617735902".
            if let keyword = keywords.first(where: { $0.count >= 5 && word.folded.hasPrefix($0) }), word.folded.count > keyword.count,
                word.folded.dropFirst(keyword.count).allSatisfy(\.isNumber), word.folded.count - keyword.count >= 3
            {
                let start = word.start + keyword.unicodeScalars.count
                let raw = text(start, word.end)
                out.append(Entity(kind: kind, text: raw, value: raw, start: start, end: word.end))
                continue
            }
            // The keyword, a typo of it, or glued after another word ("theorder", "ispurchase").
            guard Scan.isIDKeyword(word.folded, keywords) else { continue }
            var k = w + 1
            var skipped = 0
            while k < words.count, skipped < 3, Scan.isFiller(words[k]) {
                k += 1
                skipped += 1
            }
            guard k < words.count, k - w <= 4, isIDLike(words[k]) else { continue }
            var start = words[k].start
            if start > 0, scalars[start - 1] == "#" { start -= 1 }
            let raw = text(start, words[k].end)
            out.append(Entity(kind: kind, text: raw, value: Scan.idValue(raw), start: start, end: words[k].end))
        }
        return out
    }

    /// A keyword, or a typo of one: customers write "invoce", "ordedr", "biull". Words of four letters or more within
    /// one edit (insertion, deletion, substitution or swap of neighbours) of a keyword of four letters or more.
    static func isKeyword(_ word: String, _ keywords: Set<String>) -> Bool {
        if keywords.contains(word) { return true }
        guard word.count >= 4, word.allSatisfy(\.isLetter) else { return false }
        let a = Array(word.utf8)
        return keywords.contains { keyword in
            keyword.utf8.count >= 4 && abs(keyword.utf8.count - a.count) <= 1 && withinOneEdit(a, Array(keyword.utf8))
        }
    }

    /// An id keyword, a typo of one, or one glued after another word ("theorder", "ispurchase").
    static func isIDKeyword(_ word: String, _ keywords: Set<String>) -> Bool {
        isKeyword(word, keywords) || keywords.contains { $0.count >= 5 && word.hasSuffix($0) }
    }

    static func withinOneEdit(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        if a.count == b.count {
            let diffs = a.indices.filter { a[$0] != b[$0] }
            if diffs.count <= 1 { return true }
            return diffs.count == 2 && diffs[1] == diffs[0] + 1 && a[diffs[0]] == b[diffs[1]] && a[diffs[1]] == b[diffs[0]]
        }
        let (short, long) = a.count < b.count ? (a, b) : (b, a)
        var i = 0
        while i < short.count, short[i] == long[i] { i += 1 }
        return short[i...] == long[(i + 1)...]
    }

    static func isFiller(_ word: Word) -> Bool { EntityExtractor.fillerWords.contains(word.folded) }

    private func isIDLike(_ word: Word) -> Bool {
        let digits = word.original.filter(\.isNumber).count
        return digits >= 3 && word.original.count >= 4 && word.original.count <= 32
    }

    static func idValue(_ raw: String) -> String { raw.hasPrefix("#") ? String(raw.dropFirst()) : raw }

    /// `#12345` with no keyword before it: an invoice when the turn talks of invoices, otherwise an order.
    func hashIDs() -> [Entity] {
        let mentionsInvoice = words.contains { Scan.isKeyword($0.folded, EntityExtractor.invoiceWords) }
        var out: [Entity] = []
        for word in words where word.start > 0 && scalars[word.start - 1] == "#" && isIDLike(word) {
            let raw = text(word.start - 1, word.end)
            out.append(
                Entity(kind: mentionsInvoice ? .invoiceID : .orderID, text: raw, value: Scan.idValue(raw), start: word.start - 1, end: word.end))
        }
        return out
    }

    // MARK: Amounts: a number with a currency sign or word

    func amounts() -> [Entity] {
        var out: [Entity] = []
        var i = 0
        while i < scalars.count {
            guard isDigit(i), i == 0 || !isDigit(i - 1) else {
                i += 1
                continue
            }
            var j = i
            while j < scalars.count, isDigit(j) || ((scalars[j] == "," || scalars[j] == ".") && isDigit(j + 1)) { j += 1 }
            let number = text(i, j)
            defer { i = j }
            // Before: a symbol, maybe a code ("US$", "MX$"), maybe a space.
            var b = i
            while b > 0, scalars[b - 1] == " " { b -= 1 }
            if b > 0, let code = EntityExtractor.currencySymbols[scalars[b - 1]] {
                var s = b - 1
                var currency = code
                if s >= 2, text(s - 2, s).uppercased() == "MX" {
                    currency = "MXN"
                    s -= 2
                } else if s >= 2, text(s - 2, s).uppercased() == "US" {
                    s -= 2
                } else if s >= 1, text(s - 1, s).uppercased() == "C" {
                    currency = "CAD"
                    s -= 1
                }
                out.append(Entity(kind: .amount, text: text(s, j), value: Scan.decimal(number), currency: currency, start: s, end: j))
                continue
            }
            // After: a symbol or a currency word or code.
            var a = j
            while a < scalars.count, scalars[a] == " " { a += 1 }
            if a < scalars.count, let code = EntityExtractor.currencySymbols[scalars[a]] {
                out.append(Entity(kind: .amount, text: text(i, a + 1), value: Scan.decimal(number), currency: code, start: i, end: a + 1))
                continue
            }
            if let next = words.first(where: { $0.start == a }), let code = EntityExtractor.currencyWords[next.folded] {
                out.append(Entity(kind: .amount, text: text(i, next.end), value: Scan.decimal(number), currency: code, start: i, end: next.end))
            } else if let previous = words.last(where: { $0.end <= b }), previous.end >= b - 1,
                let code = EntityExtractor.currencyWords[previous.folded], previous.folded.count == 3
            {
                out.append(
                    Entity(kind: .amount, text: text(previous.start, j), value: Scan.decimal(number), currency: code, start: previous.start, end: j))
            }
        }
        return out
    }

    /// "1,234.50" and "1.234,50" → "1234.50"; "12" → "12".
    static func decimal(_ number: String) -> String {
        guard let last = number.lastIndex(where: { $0 == "," || $0 == "." }) else { return number }
        let tail = number[number.index(after: last)...]
        let head = number[..<last].filter(\.isNumber)
        if tail.count == 3, number.filter({ $0 == "," || $0 == "." }).count >= 1, number[last] == "," || number.filter({ $0 == "." }).count > 1 {
            return String(head) + String(tail)  // thousands separator
        }
        if tail.count == 3, number[last] == "." { return String(head) + String(tail) }
        return String(head) + "." + String(tail)
    }

    // MARK: Phone numbers

    func phones(defaultCallingCode: String?) -> [Entity] {
        var out: [Entity] = []
        for run in digitRuns() where (7...15).contains(run.digits.count) {
            let before = words.last { $0.end <= run.start }
            let keyed = words.filter { $0.end <= run.start }.suffix(4).contains { EntityExtractor.phoneWords.contains($0.folded) }
            let afterIDKeyword =
                before.map { EntityExtractor.orderWords.contains($0.folded) || EntityExtractor.invoiceWords.contains($0.folded) } ?? false
            guard !afterIDKeyword, run.plus || run.digits.hasPrefix("00") || keyed || (run.separated && run.digits.count >= 9) else { continue }
            let e164: String?
            if run.plus {
                e164 = "+" + run.digits
            } else if run.digits.hasPrefix("00") {
                e164 = "+" + run.digits.dropFirst(2)
            } else if let code = defaultCallingCode {
                if code == "1", run.digits.count == 11, run.digits.hasPrefix("1") {
                    e164 = "+" + run.digits
                } else {
                    e164 = "+" + code + (run.digits.hasPrefix("0") ? String(run.digits.dropFirst()) : run.digits)
                }
            } else {
                e164 = nil
            }
            let raw = text(run.start, run.end)
            out.append(Entity(kind: .phone, text: raw, value: e164 ?? run.digits, start: run.start, end: run.end))
        }
        return out
    }

    // MARK: Dates

    func dates() -> [Entity] {
        var out: [Entity] = []
        // Numeric: 2026-12-03, 03/12/2026, 3/12.
        for run in digitRuns() {
            let raw = text(run.start, run.end)
            let parts = raw.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." }).map(String.init)
            guard parts.count >= 2, parts.count <= 3, parts.allSatisfy({ $0.allSatisfy(\.isNumber) }), !raw.contains(" ") else { continue }
            if parts.count == 3, parts[0].count == 4, let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), (1...31).contains(d) {
                out.append(Entity(kind: .date, text: raw, value: "\(parts[0])-\(pad(m))-\(pad(d))", start: run.start, end: run.end))
            } else if raw.contains("/"), let a = Int(parts[0]), let b = Int(parts[1]), (1...31).contains(a), (1...31).contains(b),
                parts[0].count <= 2, parts[1].count <= 2
            {
                let year = parts.count == 3 ? parts[2] : nil
                let value = year.map { y in (y.count == 2 ? "20" + y : y) + "-" + pad(b) + "-" + pad(a) } ?? raw
                out.append(Entity(kind: .date, text: raw, value: value, start: run.start, end: run.end))
            }
        }
        // Words: "5 de mayo", "May 5", "5th of May", "today", "el lunes", "pasado mañana".
        for (w, word) in words.enumerated() {
            if let month = EntityExtractor.months[word.folded], word.folded != "may" || word.isCapitalized || (w > 0 && words[w - 1].hasDigit) {
                var start = word.start
                var end = word.end
                var day: Int?
                if w + 1 < words.count, let d = Scan.dayNumber(words[w + 1].folded), words[w + 1].start - word.end <= 2 {
                    day = d
                    end = words[w + 1].end
                } else if w >= 1, let d = Scan.dayNumber(words[w - 1].folded), word.start - words[w - 1].end <= 2 {
                    day = d
                    start = words[w - 1].start
                } else if w >= 2, ["de", "of"].contains(words[w - 1].folded), let d = Scan.dayNumber(words[w - 2].folded) {
                    day = d
                    start = words[w - 2].start
                }
                guard let day else { continue }
                out.append(Entity(kind: .date, text: text(start, end), value: "--\(pad(month))-\(pad(day))", start: start, end: end))
            } else if EntityExtractor.relativeDays.contains(word.folded) {
                // "mañana" after "la"/"por la" is the morning, not tomorrow.
                if word.folded == "manana", w > 0, ["la", "esta"].contains(words[w - 1].folded) { continue }
                var start = word.start
                var value = word.folded
                if word.folded == "manana", w > 0, words[w - 1].folded == "pasado" {
                    start = words[w - 1].start
                    value = "pasado manana"
                }
                out.append(Entity(kind: .date, text: text(start, word.end), value: value, start: start, end: word.end))
            }
        }
        return out
    }

    static func dayNumber(_ folded: String) -> Int? {
        let digits = folded.prefix { $0.isNumber }
        let rest = folded.dropFirst(digits.count)
        guard let day = Int(digits), (1...31).contains(day), ["", "st", "nd", "rd", "th", "o"].contains(String(rest)) else { return nil }
        return day
    }

    private func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    // MARK: Names

    func names() -> [Entity] {
        var out: [Entity] = []
        for (w, word) in words.enumerated() {
            // "Mr. Smith", "Sra. López".
            if EntityExtractor.honorifics.contains(word.folded.replacingDots()), word.isCapitalized || word.folded.count > 3 {
                let parts = nameWords(from: w + 1, requireCapital: true, limit: 2)
                if let last = parts.last { out.append(name(word.start, words[last].end)) }
                continue
            }
            for lead in EntityExtractor.nameLeads + EntityExtractor.capitalNameLeads {
                guard w + lead.count <= words.count, words[w..<(w + lead.count)].map(\.folded) == lead else { continue }
                let strict = EntityExtractor.capitalNameLeads.contains(lead)
                let parts = nameWords(from: w + lead.count, requireCapital: strict, limit: strict ? 3 : 2)
                if let first = parts.first, let last = parts.last { out.append(name(words[first].start, words[last].end)) }
                break
            }
        }
        // Two or three capitalised words in a row, not opening a sentence, none a place, month, weekday or word the
        // lexicons know: "the bill from Anna Freeman".
        var w = 0
        while w < words.count {
            var run = w
            while run < words.count, run - w < 3, isNameLike(words[run]), run == w || words[run].start - words[run - 1].end == 1 { run += 1 }
            if run - w >= 2, !opensSentence(w) {
                out.append(name(words[w].start, words[run - 1].end))
                w = run
            } else {
                w += 1
            }
        }
        return out
    }

    private func isNameLike(_ word: Word) -> Bool {
        guard word.isCapitalized, !word.hasDigit, word.original.count >= 2, word.original.dropFirst().allSatisfy(\.isLowercase) else { return false }
        let f = word.folded
        return !EntityExtractor.notNames.contains(f) && !LanguageDetector.english.contains(f) && !LanguageDetector.spanish.contains(f)
            && EntityExtractor.months[f] == nil && !EntityExtractor.relativeDays.contains(f) && Gazetteer.cities[f] == nil
            && Gazetteer.countries[f] == nil && !EntityExtractor.honorifics.contains(f)
    }

    /// Whether word `w` is the first of the text or follows `.`, `!`, `?` or a line break.
    private func opensSentence(_ w: Int) -> Bool {
        var i = words[w].start - 1
        while i >= 0, scalars[i] == " " || scalars[i] == "\t" { i -= 1 }
        return i < 0 || ".!?\n¿¡".unicodeScalars.contains(scalars[i])
    }

    private func nameWords(from index: Int, requireCapital: Bool, limit: Int) -> [Int] {
        var found: [Int] = []
        var k = index
        while k < words.count, found.count < limit {
            let word = words[k]
            guard !word.hasDigit, word.original.count >= 2, !EntityExtractor.notNames.contains(word.folded),
                !LanguageDetector.english.contains(word.folded) || word.isCapitalized, !requireCapital || word.isCapitalized
            else { break }
            if let previous = found.last, word.start - words[previous].end > 1 { break }
            found.append(k)
            k += 1
        }
        return found
    }

    private func name(_ start: Int, _ end: Int) -> Entity {
        let raw = text(start, end)
        return Entity(kind: .personName, text: raw, value: raw, start: start, end: end)
    }

    // MARK: Places

    func places() -> [Entity] {
        var out: [Entity] = []
        var w = 0
        while w < words.count {
            var matched = false
            for length in stride(from: min(Gazetteer.longestName, words.count - w), through: 1, by: -1) {
                let span = words[w..<(w + length)]
                let key = span.map(\.folded).joined(separator: " ")
                let capitalised = span.first!.isCapitalized
                if Gazetteer.needsCapital.contains(key), !capitalised { continue }
                let kind: Entity.Kind
                let canonical: String
                if let country = Gazetteer.countries[key] {
                    kind = .country
                    canonical = country
                } else if let city = Gazetteer.cities[key] {
                    kind = .city
                    canonical = city
                } else {
                    continue
                }
                if key == "us", span.first!.original != "US" { continue }
                out.append(
                    Entity(kind: kind, text: text(span.first!.start, span.last!.end), value: canonical, start: span.first!.start, end: span.last!.end)
                )
                w += length
                matched = true
                break
            }
            if !matched { w += 1 }
        }
        return out
    }
}

extension String {
    fileprivate func replacingDots() -> String { filter { $0 != "." } }
}
