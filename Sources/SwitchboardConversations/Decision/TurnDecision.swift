/// What the pipeline does with a turn.
public struct TurnDecision: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Answer the customer automatically.
        case reply
        /// Write a draft for a person (co-pilot); nothing is sent until a person sends it.
        case draft
        /// Hand the conversation to a person, with a reason; it stays with people until released.
        case handoff
        /// The customer wrote again before the answer was composed or sent: the next turn answers everything.
        case superseded
    }

    /// Why. Handoff reasons first, then draft reasons, then reply reasons.
    public enum Reason: String, Sendable, Codable, CaseIterable {
        case humanRequested = "human_requested"
        case complaint = "complaint_negative"
        case outOfScope = "out_of_scope"
        case paymentProblem = "payment_problem"
        case repeatedLowConfidence = "low_confidence_repeated"
        case alwaysHuman = "always_human_topic"
        case lowConfidence = "low_confidence"
        case orderUnclear = "order_unclear"
        case noKnowledge = "no_knowledge"
        case withPerson = "conversation_in_handoff"
        case orderConfirmation = "order_confirmation"
        case answered = "answered"
        case smallTalk = "small_talk"
        /// The customer asked whether their question was forgotten: the last unanswered one is answered (or handed to a
        /// person when it needs one).
        case forgottenQuestion = "forgotten_question"
        case newerMessage = "newer_message"
    }

    public var kind: Kind
    public var reason: Reason
    /// The turn was understood below the tenant's confidence threshold (it counts toward the consecutive streak).
    public var lowConfidence: Bool

    public init(_ kind: Kind, _ reason: Reason, lowConfidence: Bool = false) {
        (self.kind, self.reason, self.lowConfidence) = (kind, reason, lowConfidence)
    }
}
