/// What Switchboard made of one turn: the intents, whether it is out of scope, how the customer sounds, what they
/// named, in which language — the input of the reply / draft / handoff decision.
public struct TurnUnderstanding: Sendable, Codable {
    /// One intent of the turn.
    public struct Intent: Sendable, Codable, Equatable {
        public enum Source: String, Sendable, Codable {
            /// The embedded intent model.
            case model
            /// A phrase of the bilingual lexicon.
            case lexicon
            /// Order lines found in the text.
            case orderLines = "order-lines"
        }
        public var name: String
        public var confidence: Double
        public var source: Source
        /// Index of the segment it came from.
        public var segment: Int

        public init(name: String, confidence: Double, source: Source, segment: Int) {
            self.name = name
            self.confidence = confidence
            self.source = source
            self.segment = segment
        }
    }

    /// A segment and the model's best guesses for it.
    public struct Part: Sendable, Codable {
        public var segment: TurnSegment
        public var top: [Scored]
        /// The out-of-scope score: cosine with the nearest intent prototype.
        public var similarity: Double
        public var inScope: Bool
    }

    public struct Scored: Sendable, Codable, Equatable {
        public var intent: String
        public var confidence: Double
    }

    /// Distinct intents, the most pressing first.
    public var intents: [Intent]
    /// No part of the turn is something the assistant knows how to handle: hand it to a person (or the LLM).
    public var outOfScope: Bool
    /// The best calibrated intent confidence over the turn's parts.
    public var confidence: Double
    /// The best out-of-scope score over the parts (nearest-prototype cosine), and the threshold a part must reach to
    /// be in scope.
    public var similarity: Double
    public var outOfScopeThreshold: Double
    public var sentiment: Sentiment
    public var urgency: Urgency
    public var entities: [Entity]
    public var language: TurnLanguage
    public var parts: [Part]
    /// Where the time went, in milliseconds.
    public var timings: Timings

    public struct Timings: Sendable, Codable {
        public var embeddingMs: Double
        public var headsMs: Double
        public var totalMs: Double
    }

    /// The same understanding with personal data replaced in the texts it carries (entities' text and value,
    /// segments).
    public func redacted() -> TurnUnderstanding {
        var copy = self
        copy.entities = entities.map { entity in
            guard entity.kind.isPersonal else { return entity }
            var e = entity
            e.text = PIIRedactor.placeholder(entity.kind)
            e.value = PIIRedactor.placeholder(entity.kind)
            return e
        }
        copy.parts = parts.map { part in
            var p = part
            p.segment.text = PIIRedactor.redact(part.segment.text)
            return p
        }
        return copy
    }
}
