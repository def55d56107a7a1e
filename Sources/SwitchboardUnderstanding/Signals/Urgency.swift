import SwitchboardKnowledge

/// How soon a person should look: from the words, the punctuation, the burst, the sentiment and the intents.
public enum Urgency: String, Sendable, Codable, Comparable, CaseIterable {
    case low, normal, high, urgent

    public static func < (a: Urgency, b: Urgency) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The urgency rules, documented here and in docs/architecture.md. Points add up:
/// - an urgency word or phrase ("urgent", "asap", "right now", "immediately", "emergency", "urgente", "ahora mismo",
///   "cuanto antes", "lo antes posible", "inmediatamente", "ya mismo"): +3;
/// - three or more "!" in the turn, or a turn shouted in capitals: +1;
/// - a burst of three or more messages (the customer keeps writing without an answer): +2;
/// - negative sentiment: +1 (+2 at a score of −0.5 or below);
/// - an intent that means something went wrong (complaint, payment issue, asking for a person, cancelling): +1;
///   a purely informational turn (newsletter, reviews, policies, account creation) with no other points: −1.
/// 4 or more points is urgent, 2–3 high, −1 low, otherwise normal.
public enum UrgencyRules {
    static let phrases: [[String]] = [
        "urgent", "urgently", "asap", "right now", "immediately", "emergency", "as soon as possible", "right away", "urgente",
        "urgentemente", "ahora mismo", "cuanto antes", "lo antes posible", "inmediatamente", "ya mismo", "emergencia", "de inmediato",
    ].map { $0.split(separator: " ").map(String.init) }
    static let troubled: Set<String> = ["complaint", "payment_issue", "contact_human_agent", "cancel_order", "registration_problems"]
    static let informational: Set<String> = [
        "newsletter_subscription", "review", "check_refund_policy", "check_payment_methods", "delivery_options", "create_account",
        "check_cancellation_fee", LexiconIntents.greeting, LexiconIntents.thanks, LexiconIntents.priceQuestion,
    ]

    public static func assess(text: String, sentiment: Sentiment, intents: [String], burstSize: Int = 1) -> Urgency {
        let tokens = TextFolding.words(TextFolding.fold(text)).map(String.init)
        var points = 0
        if phrases.contains(where: { LexiconIntents.contains(tokens, $0) }) { points += 3 }
        let letters = text.unicodeScalars.filter { $0.properties.isAlphabetic }
        let shouted = letters.count >= 8 && Double(letters.filter { $0.properties.isUppercase }.count) / Double(letters.count) > 0.7
        if text.unicodeScalars.filter({ $0 == "!" }).count >= 3 || shouted { points += 1 }
        if burstSize >= 3 { points += 2 }
        if sentiment.label == .negative { points += sentiment.score <= -0.5 ? 2 : 1 }
        if intents.contains(where: troubled.contains) { points += 1 }
        if points == 0, !intents.isEmpty, intents.allSatisfy(informational.contains) { points = -1 }
        switch points {
        case 4...: return .urgent
        case 2...3: return .high
        case ..<0: return .low
        default: return .normal
        }
    }

    /// Orders a turn's intents: the ones that mean trouble first, then requests, then information.
    public static func priority(_ intent: String) -> Int {
        if troubled.contains(intent) { return 2 }
        if informational.contains(intent) { return 0 }
        return 1
    }
}
