import SwitchboardKnowledge

/// How the customer sounds.
public struct Sentiment: Sendable, Codable, Equatable {
    public enum Label: String, Sendable, Codable { case negative, neutral, positive }
    public var label: Label
    /// −1 (angry) … +1 (delighted).
    public var score: Double

    public init(label: Label, score: Double) {
        self.label = label
        self.score = score
    }
}

/// Lexicon sentiment for English and Spanish chat: weighted words and phrases (folded, so "pésimo" and "pesimo" are
/// one), a negator within the two words before a word flips and damps it ("not happy", "no funciona"), intensifiers
/// ("very", "muy", "so") strengthen the next word, and "!!", shouting in capitals and angry or happy emoji add to the
/// score. The sum is squashed to −1…1 by `x / (|x| + 2)`; below −0.2 is negative, above 0.25 positive.
public enum SentimentAnalyzer {
    static let words: [String: Double] = [
        // English, negative
        "angry": -2.5, "furious": -3, "terrible": -3, "horrible": -3, "awful": -3, "worst": -3, "bad": -1.5, "poor": -1.5, "useless": -2.5,
        "ridiculous": -2.5, "unacceptable": -3, "disappointed": -2, "disappointing": -2, "upset": -2, "annoyed": -2, "frustrated": -2,
        "frustrating": -2, "hate": -2.5, "broken": -1.5, "damaged": -1.5, "wrong": -1.2, "late": -1, "missing": -1, "never": -0.8,
        "problem": -1, "issue": -0.8, "complaint": -1.5, "scam": -3, "fraud": -3, "rude": -2.5, "rotten": -2.5, "spoiled": -2,
        "waiting": -0.8, "still": -0.4, "refund": -0.5, "sucks": -2.5, "fed": -0.5, "disgusting": -3, "stupid": -2.5, "incompetent": -3,
        "lost": -1.2, "cheated": -3, "nobody": -1, "unhappy": -2, "sad": -1.5, "mad": -2, "wtf": -2.5, "joke": -1.5,
        // English, positive
        "thanks": 1.5, "thank": 1.5, "great": 2, "good": 1.2, "excellent": 2.5, "perfect": 2.5, "love": 2.5, "amazing": 2.5,
        "awesome": 2.5, "happy": 2, "nice": 1.5, "wonderful": 2.5, "appreciate": 2, "helpful": 2, "fantastic": 2.5, "glad": 1.5,
        "pleased": 2, "fast": 1, "quick": 0.8, "fresh": 1, "delicious": 2, "best": 2, "satisfied": 2, "cool": 1,
        // Spanish, negative
        "enojado": -2.5, "enojada": -2.5, "furioso": -3, "furiosa": -3, "pesimo": -3, "pesima": -3,
        "malo": -1.5, "mala": -1.5, "mal": -1.5, "inaceptable": -3, "decepcionado": -2, "decepcionada": -2, "molesto": -2, "molesta": -2,
        "harto": -2.5, "harta": -2.5, "odio": -2.5, "roto": -1.5, "rota": -1.5, "danado": -1.5, "danada": -1.5, "equivocado": -1.2,
        "tarde": -0.8, "falta": -1, "faltan": -1, "nunca": -0.8, "problema": -1, "queja": -1.5, "reclamo": -1.5, "estafa": -3,
        "fraude": -3, "grosero": -2.5, "podrido": -2.5, "podrida": -2.5, "esperando": -0.8, "todavia": -0.4, "aun": -0.4,
        "verguenza": -2.5, "desastre": -3, "fatal": -2.5, "triste": -1.5, "nadie": -1, "perdido": -1.2,
        // Spanish, positive
        "gracias": 1.5, "genial": 2, "bueno": 1.2, "buena": 1.2, "bien": 1, "excelente": 2.5, "perfecto": 2.5, "perfecta": 2.5,
        "encanta": 2.5, "encanto": 2.5, "feliz": 2, "contento": 2, "contenta": 2, "agradezco": 2, "maravilloso": 2.5, "rapido": 1,
        "fresco": 1, "fresca": 1, "delicioso": 2, "deliciosa": 2, "mejor": 1.5, "satisfecho": 2, "satisfecha": 2, "amable": 2,
    ]
    static let phrases: [String: Double] = [
        "not happy": -2, "not good": -1.5, "doesn't work": -1.5, "does not work": -1.5, "no funciona": -1.5, "very bad": -2.5,
        "still waiting": -2, "sigo esperando": -2, "todavia no": -1.2, "no llego": -1.5, "never arrived": -2, "not arrived": -1.5,
        "muchas gracias": 2.5, "thank you so much": 2.5, "de nada": 0, "no thanks": 0, "no gracias": 0,
    ]
    static let negators: Set<String> = [
        "not", "no", "never", "dont", "don't", "isn't", "wasnt", "wasn't", "nunca", "ni", "tampoco", "without", "sin",
    ]
    static let intensifiers: Set<String> = ["very", "so", "really", "extremely", "super", "too", "muy", "tan", "demasiado", "bastante", "totally"]
    static let negativeEmoji: Set<Unicode.Scalar> = ["😡", "😠", "🤬", "😤", "😞", "😢", "😭", "👎", "💩", "😒", "🙄"]
    static let positiveEmoji: Set<Unicode.Scalar> = ["😀", "😃", "😄", "😊", "🙂", "😍", "🥰", "👍", "🙏", "❤", "💯", "🎉", "😁"]

    public static func analyze(_ text: String) -> Sentiment {
        let folded = TextFolding.fold(text)
        let tokens = folded.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "'") }).map(String.init)
        var total = 0.0
        var consumed = Set<Int>()
        for (phrase, weight) in phrases where weight != 0 {
            let parts = phrase.split(separator: " ").map(String.init)
            guard parts.count <= tokens.count else { continue }
            for start in 0...(tokens.count - parts.count) where Array(tokens[start..<(start + parts.count)]) == parts {
                total += weight
                for i in start..<(start + parts.count) { consumed.insert(i) }
            }
        }
        for (i, token) in tokens.enumerated() where !consumed.contains(i) {
            guard var weight = words[token] else { continue }
            let window = tokens[max(0, i - 2)..<i]
            if window.contains(where: negators.contains) { weight *= -0.6 }
            if i > 0, intensifiers.contains(tokens[i - 1]) { weight *= 1.5 }
            total += weight
        }
        let exclamations = text.unicodeScalars.filter { $0 == "!" }.count
        if exclamations >= 2 { total += total < 0 ? -1 : (total > 0 ? 0.5 : 0) }
        let letters = text.unicodeScalars.filter { $0.properties.isAlphabetic }
        let upper = letters.filter { $0.properties.isUppercase }.count
        if letters.count >= 8, Double(upper) / Double(letters.count) > 0.7 { total -= 1 }
        for scalar in text.unicodeScalars {
            if negativeEmoji.contains(scalar) { total -= 1.5 }
            if positiveEmoji.contains(scalar) { total += 1.2 }
        }
        let score = total / (abs(total) + 2)
        let label: Sentiment.Label = score < -0.2 ? .negative : (score > 0.25 ? .positive : .neutral)
        return Sentiment(label: label, score: (score * 1000).rounded() / 1000)
    }
}
