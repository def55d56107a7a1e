/// Replaces personal data in a text — emails, phone numbers, card numbers, people's names — with placeholders
/// (`[email]`, `[phone]`, `[card]`, `[name]`). The logger runs every line through it, so a customer's message quoted
/// in a log or an error keeps its shape and loses what identifies them.
public enum PIIRedactor {
    static let extractor = EntityExtractor()

    public static func redact(_ text: String) -> String {
        // Fast path: no '@', no run of 7 digits, no capital letter — nothing personal the scanners could find.
        guard mightContainPII(text) else { return text }
        let personal = extractor.extract(text).filter(\.kind.isPersonal)
        guard !personal.isEmpty else { return text }
        var scalars = Array(text.unicodeScalars)
        for entity in personal.sorted(by: { $0.start > $1.start }) {
            scalars.replaceSubrange(entity.start..<entity.end, with: placeholder(entity.kind).unicodeScalars)
        }
        return String(String.UnicodeScalarView(scalars))
    }

    static func placeholder(_ kind: Entity.Kind) -> String {
        switch kind {
        case .email: "[email]"
        case .phone: "[phone]"
        case .cardNumber: "[card]"
        default: "[name]"
        }
    }

    static func mightContainPII(_ text: String) -> Bool {
        var digitRun = 0
        for scalar in text.unicodeScalars {
            if scalar == "@" || scalar.properties.isUppercase { return true }
            if ("0"..."9").contains(scalar) {
                digitRun += 1
                if digitRun >= 7 { return true }
            } else if scalar != " " && scalar != "-" {
                digitRun = 0
            }
        }
        let lower = text.lowercased()
        return lower.contains("name") || lower.contains("llamo") || lower.contains("nombre")
    }
}
