import SwitchboardKnowledge

/// One token of a folded message line.
struct OrderToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A run of letters ("cajas", "jalapeno").
        case word
        /// Digits, with a decimal point or comma ("2,5"), or a fraction ("1/2"); `value` holds it.
        case number
        /// A clause boundary: "," ";" ":" "." "!" "?" "+" "(" ")", or "and" / "y" / "&" between items.
        case separator
    }
    var kind: Kind
    /// Folded text; for a separator its character ("?" marks a question).
    var text: String
    var value: Double = 0
    /// Written right after the previous token with no space ("25kg", "x2").
    var glued = false
    /// From an emoji ("🍅" → "tomato").
    var fromEmoji = false
}

/// Splits a message line into words, numbers and separators. Numbers keep decimal commas ("2,5" is 2.5, "2, 5" is
/// two numbers), food emojis become the word they show, other symbols are dropped.
enum OrderTokenizer {
    static func tokenize(_ line: String) -> [OrderToken] {
        let folded = TextFolding.fold(line)
        var tokens: [OrderToken] = []
        let scalars = Array(folded.unicodeScalars)
        var i = 0
        var spaced = true
        func push(_ token: OrderToken) {
            var t = token
            t.glued = !spaced && !tokens.isEmpty
            tokens.append(t)
            spaced = false
        }
        while i < scalars.count {
            let c = scalars[i]
            if c.properties.isWhitespace {
                spaced = true
                i += 1
                continue
            }
            if c.properties.numericType != nil, ("0"..."9").contains(c) {
                var j = i
                var text = ""
                while j < scalars.count, ("0"..."9").contains(scalars[j]) {
                    text.unicodeScalars.append(scalars[j])
                    j += 1
                }
                var value = Double(text) ?? 0
                // A decimal point or comma between digits; "1/2" a fraction.
                if j + 1 < scalars.count, scalars[j] == "." || scalars[j] == ",", ("0"..."9").contains(scalars[j + 1]) {
                    var k = j + 1
                    var decimals = ""
                    while k < scalars.count, ("0"..."9").contains(scalars[k]) {
                        decimals.unicodeScalars.append(scalars[k])
                        k += 1
                    }
                    // "1,000" with three digits after a comma is a thousands separator.
                    if scalars[j] == ",", decimals.count == 3 {
                        value = Double(text + decimals) ?? value
                    } else {
                        value = Double(text + "." + decimals) ?? value
                    }
                    text += "." + decimals
                    j = k
                } else if j + 1 < scalars.count, scalars[j] == "/", ("1"..."9").contains(scalars[j + 1]) {
                    var k = j + 1
                    var denominator = ""
                    while k < scalars.count, ("0"..."9").contains(scalars[k]) {
                        denominator.unicodeScalars.append(scalars[k])
                        k += 1
                    }
                    if let d = Double(denominator), d > 0 { value /= d }
                    text += "/" + denominator
                    j = k
                }
                push(OrderToken(kind: .number, text: text, value: value))
                i = j
                continue
            }
            if c.properties.isAlphabetic {
                var j = i
                var text = ""
                while j < scalars.count,
                    scalars[j].properties.isAlphabetic || (scalars[j] == "'" && j + 1 < scalars.count && scalars[j + 1].properties.isAlphabetic)
                {
                    if scalars[j] != "'" { text.unicodeScalars.append(scalars[j]) }
                    j += 1
                }
                push(OrderToken(kind: .word, text: text))
                i = j
                continue
            }
            switch c {
            case ",", ";", ":", ".", "!", "?", "+", "(", ")", "¿", "¡", "\u{2026}":
                if c != "¿" && c != "¡" { push(OrderToken(kind: .separator, text: c == "\u{2026}" ? "." : String(c))) }
                spaced = true
            case "&":
                push(OrderToken(kind: .separator, text: "&"))
                spaced = true
            case "@", "$", "€", "£":
                push(OrderToken(kind: .word, text: c == "@" ? "@" : "$"))
            case "-", "/", "*", "#", "=", "~", "_", "\"", "'", "[", "]", "{", "}", "|", "<", ">":
                spaced = true
            default:
                if let word = emojiWords[c] {
                    for w in word.split(separator: " ") { push(OrderToken(kind: .word, text: String(w), fromEmoji: true)) }
                }
                spaced = true
            }
            i += 1
        }
        return tokens
    }

    /// Food and drink emojis, as the English word a catalogue would use.
    static let emojiWords: [Unicode.Scalar: String] = [
        "\u{1F345}": "tomato", "\u{1F951}": "avocado", "\u{1F353}": "strawberry", "\u{1F34C}": "banana", "\u{1F34B}": "lemon",
        "\u{1F34A}": "orange", "\u{1F34E}": "red apple", "\u{1F34F}": "green apple", "\u{1F954}": "potato", "\u{1F9C5}": "onion",
        "\u{1F955}": "carrot", "\u{1F96C}": "lettuce", "\u{1F952}": "cucumber", "\u{1F336}": "chili pepper", "\u{1FAD1}": "bell pepper",
        "\u{1F9C4}": "garlic", "\u{1F966}": "broccoli", "\u{1F344}": "mushroom", "\u{1F33D}": "corn", "\u{1F34D}": "pineapple",
        "\u{1F96D}": "mango", "\u{1F95A}": "egg", "\u{1F95B}": "milk", "\u{1F9C8}": "butter", "\u{1F9C0}": "cheese", "\u{1F35A}": "rice",
        "\u{1FAD8}": "beans", "\u{1F35D}": "spaghetti", "\u{1FAD2}": "olive", "\u{1F4A7}": "water", "\u{1F35E}": "bread",
        "\u{1F347}": "grapes", "\u{1F349}": "watermelon", "\u{1F351}": "peach", "\u{1F352}": "cherries", "\u{1F965}": "coconut",
        "\u{1F95D}": "kiwi", "\u{1F350}": "pear", "\u{1F348}": "melon", "\u{1FAD0}": "blueberries", "\u{1F360}": "sweet potato",
        "\u{1F346}": "eggplant", "\u{1F9C2}": "salt", "\u{1F36F}": "honey", "\u{1F95C}": "peanuts", "\u{1F330}": "chestnut",
        "\u{1F33F}": "herb", "\u{1F96B}": "canned food", "\u{1F9FC}": "soap", "\u{1F9FD}": "sponge", "\u{1F9FB}": "paper towels",
        "\u{1F9E4}": "gloves", "\u{1F9C3}": "juice", "\u{1F37A}": "beer", "\u{1F377}": "wine", "\u{1F964}": "soda", "\u{1F357}": "chicken",
        "\u{1F969}": "meat", "\u{1F41F}": "fish", "\u{1F990}": "shrimp", "\u{1F953}": "bacon", "\u{1FADA}": "ginger",
    ]
}
