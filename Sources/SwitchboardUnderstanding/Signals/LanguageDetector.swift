import Foundation
import SwitchboardKnowledge

/// The language of a turn, as far as the pipeline needs to know it.
public enum TurnLanguage: String, Sendable, Codable, CaseIterable {
    case english = "en"
    case spanish = "es"
    case other
}

/// English, Spanish or something else, from function words and script: short chat turns are too short for n-gram
/// language models, but nearly every English or Spanish sentence has a function word ("the", "my", "de", "el"), and
/// Spanish has letters English does not (ñ, ¿, ¡, accented vowels).
public enum LanguageDetector {
    static let english: Set<String> = [
        "the", "a", "an", "my", "i", "you", "your", "is", "are", "was", "to", "of", "and", "in", "for", "on", "with", "it", "me", "can",
        "how", "what", "where", "when", "do", "does", "want", "need", "have", "please", "order", "not", "dont", "this", "that", "be",
        "hi", "hello", "hey", "thanks", "thank", "would", "could", "help", "get", "from", "at", "there", "just", "im", "its",
    ]
    static let spanish: Set<String> = [
        "el", "la", "los", "las", "un", "una", "unos", "unas", "mi", "mis", "tu", "su", "es", "son", "está", "esta", "de", "del", "y",
        "en", "para", "por", "con", "que", "qué", "como", "cómo", "donde", "dónde", "cuando", "cuándo", "quiero", "necesito", "tengo",
        "por", "favor", "hola", "gracias", "buenos", "buenas", "días", "dias", "pedido", "no", "se", "me", "lo", "al", "pero", "muy",
        "puedo", "puede", "cuánto", "cuanto", "hay", "también", "ya", "sí", "usted", "ustedes", "le", "nos",
    ]

    public static func detect(_ text: String) -> TurnLanguage {
        var latin = 0
        var otherScript = 0
        var spanishMarks = 0
        for scalar in text.unicodeScalars where scalar.properties.isAlphabetic {
            if scalar.value < 0x250 { latin += 1 } else { otherScript += 1 }
            if "ñÑáéíóúÁÉÍÓÚü".unicodeScalars.contains(scalar) { spanishMarks += 1 }
        }
        for scalar in text.unicodeScalars where scalar == "¿" || scalar == "¡" { spanishMarks += 2 }
        if otherScript > latin { return .other }
        if latin == 0 { return .other }
        var en = 0
        var es = 0
        for word in text.lowercased().split(whereSeparator: { !($0.isLetter || $0 == "'") }) {
            let w = String(word).replacingOccurrences(of: "'", with: "")
            if english.contains(w) { en += 1 }
            if spanish.contains(w) { es += 1 }
        }
        es += spanishMarks
        if es > en { return .spanish }
        if en > 0 { return .english }
        return es > 0 ? .spanish : (text.unicodeScalars.contains { $0.isASCII && $0.properties.isAlphabetic } ? .english : .other)
    }
}
