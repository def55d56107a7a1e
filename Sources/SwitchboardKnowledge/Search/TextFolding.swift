import Foundation

/// Search text in one form for English and Spanish: lower case, accents removed ("Jalapeño" → "jalapeno",
/// "ecológico" → "ecologico"), runs of whitespace as one space. Stored search columns and queries fold alike.
public enum TextFolding {
    public static func fold(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        let source = text.unicodeScalars.allSatisfy(\.isASCII) ? text : text.decomposedStringWithCanonicalMapping
        for scalar in source.unicodeScalars {
            if scalar.properties.generalCategory == .nonspacingMark { continue }
            if scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace {
                out.append(" ")
                pendingSpace = false
            }
            out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
        }
        return String(out)
    }

    /// The words of folded text: runs of letters and digits.
    public static func words(_ folded: String) -> [Substring] {
        folded.split { !($0.isLetter || $0.isNumber) }
    }
}
