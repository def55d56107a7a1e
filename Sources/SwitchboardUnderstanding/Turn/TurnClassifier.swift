public import SwitchboardEmbedding

/// Understands a turn: splits it into parts, embeds them in one batch, classifies each with the intent model, adds
/// the lexicon's and the order lines' intents, and reads sentiment, urgency, entities and language.
public struct TurnClassifier: Sendable {
    public var model: IntentModel
    public var embedder: EmbeddingService
    public var segmenter = TurnSegmenter()
    public var entities: EntityExtractor
    /// Out-of-scope threshold to use instead of the model's (a tenant's override).
    public var outOfScopeThreshold: Float?
    /// A soft split ("… and …") is kept when both halves reach this confidence with different intents.
    public var softSplitConfidence: Float = 0.8
    /// Only a segment whose best confidence is below `splitBelow` and whose second-best is at least `splitSecond` is
    /// taken as two clauses (at most two candidate splits each are embedded with the segments).
    public var splitBelow: Float = 0.9
    public var splitSecond: Float = 0.1
    /// Texts longer than this (in scalars) are cut before the model sees them; entities still scan the whole text.
    public var maximumModelText = 4000

    public init(model: IntentModel, embedder: EmbeddingService, entities: EntityExtractor = EntityExtractor(), outOfScopeThreshold: Float? = nil) {
        self.model = model
        self.embedder = embedder
        self.entities = entities
        self.outOfScopeThreshold = outOfScopeThreshold
    }

    public var threshold: Float { outOfScopeThreshold ?? model.outOfScopeThreshold }

    /// Understands `text`; `burstSize` is how many messages the turn merged (a burst of several raises urgency).
    public func understand(_ text: String, burstSize: Int = 1) async throws -> TurnUnderstanding {
        try await understandWithVectors(text, burstSize: burstSize).understanding
    }

    /// ``understand(_:burstSize:)``, and the sentence vector of every text it embedded (each part's segment, keyed by
    /// its text): a later stage searching with a part's text need not embed it again.
    public func understandWithVectors(_ text: String, burstSize: Int = 1) async throws -> (
        understanding: TurnUnderstanding, vectors: [String: [Float]]
    ) {
        let started = ContinuousClock.now
        let modelText =
            text.unicodeScalars.count > maximumModelText
            ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(maximumModelText))) : text
        let segments = segmenter.segments(modelText)
        // Candidate clause splits at a plain "and"/"y" go into the same batch as the segments: an embedding call costs
        // mostly its fixed part (streaming the weights), so a few more tokens in one call are cheaper than a second call.
        var candidates: [(segment: Int, left: TurnSegment, right: TurnSegment)] = []
        let language = LanguageDetector.detect(text)
        // Only English clauses: the English-trained model's halves of a Spanish clause say nothing the lexicon does not.
        if segments.count < segmenter.maximumSegments, language == .english {
            for (n, segment) in segments.enumerated() {
                for (left, right) in segmenter.softSplits(segment).prefix(2) { candidates.append((n, left, right)) }
            }
        }
        let texts = segments.map(\.text) + candidates.flatMap { [$0.left.text, $0.right.text] }
        let embedStarted = ContinuousClock.now
        let vectors = texts.isEmpty ? [] : try await embedder.embed(texts)
        let embedding = ContinuousClock.now - embedStarted
        let wholes = segments.indices.map { score(segments[$0], vectors[$0]) }
        // A split is kept for a segment the model is torn on (best below `splitBelow`, second at least `splitSecond`)
        // when both halves are confident and name different intents.
        var replacements: [Int: [TurnUnderstanding.Part]] = [:]
        for (c, candidate) in candidates.enumerated() where replacements[candidate.segment] == nil {
            let top = wholes[candidate.segment].top
            guard top.count >= 2, top[0].confidence < Double(splitBelow), top[1].confidence >= Double(splitSecond) else { continue }
            let a = score(candidate.left, vectors[segments.count + 2 * c])
            let b = score(candidate.right, vectors[segments.count + 2 * c + 1])
            guard let ta = a.top.first, let tb = b.top.first, ta.intent != tb.intent, ta.confidence >= Double(softSplitConfidence),
                tb.confidence >= Double(softSplitConfidence)
            else { continue }
            replacements[candidate.segment] = [a, b]
        }
        var parts: [TurnUnderstanding.Part] = []
        for n in wholes.indices { parts += replacements[n] ?? [wholes[n]] }
        var intents: [TurnUnderstanding.Intent] = []
        func add(_ name: String, _ confidence: Double, _ source: TurnUnderstanding.Intent.Source, _ segment: Int) {
            if let i = intents.firstIndex(where: { $0.name == name }) {
                if confidence > intents[i].confidence { intents[i] = .init(name: name, confidence: confidence, source: source, segment: segment) }
            } else {
                intents.append(.init(name: name, confidence: confidence, source: source, segment: segment))
            }
        }
        let modelLabels = Set(model.labels)
        for (n, part) in parts.enumerated() {
            if part.inScope, let top = part.top.first { add(top.intent, top.confidence, .model, n) }
            // English text: the lexicon adds only what the model has no label for; other languages: all of it.
            for hit in LexiconIntents.match(part.segment.text, except: language == .english ? modelLabels : []) {
                add(hit.intent, Double(hit.confidence), .lexicon, n)
            }
            if OrderLineDetector.lineCount(part.segment.text) > 0 { add("place_order", 0.9, .orderLines, n) }
        }
        let sentiment = SentimentAnalyzer.analyze(text)
        intents.sort {
            let (pa, pb) = (UrgencyRules.priority($0.name), UrgencyRules.priority($1.name))
            return pa != pb ? pa > pb : ($0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.segment < $1.segment)
        }
        let urgency = UrgencyRules.assess(text: text, sentiment: sentiment, intents: intents.map(\.name), burstSize: burstSize)
        let found = entities.extract(text)
        let finished = ContinuousClock.now
        let best = parts.compactMap { $0.top.first?.confidence }.max() ?? 0
        let nearest = parts.map(\.similarity).max() ?? 0
        var embedded: [String: [Float]] = [:]
        for (t, v) in zip(texts, vectors) { embedded[t] = v }
        let understanding = TurnUnderstanding(
            intents: intents, outOfScope: intents.isEmpty, confidence: rounded(best), similarity: nearest,
            outOfScopeThreshold: rounded(Double(threshold)),
            sentiment: sentiment, urgency: urgency, entities: found, language: language, parts: parts,
            timings: .init(
                embeddingMs: milliseconds(embedding), headsMs: milliseconds((finished - started) - embedding),
                totalMs: milliseconds(finished - started)))
        return (understanding, embedded)
    }

    private func score(_ segment: TurnSegment, _ vector: [Float]) -> TurnUnderstanding.Part {
        let ranked = model.ranked(vector: vector, text: segment.text).prefix(3).map {
            TurnUnderstanding.Scored(intent: $0.label, confidence: rounded(Double($0.probability)))
        }
        let similarity = model.similarity(vector: vector)
        return TurnUnderstanding.Part(segment: segment, top: Array(ranked), similarity: rounded(Double(similarity)), inScope: similarity >= threshold)
    }

    private func rounded(_ x: Double) -> Double { (x * 10000).rounded() / 10000 }

    private func milliseconds(_ d: Duration) -> Double {
        let (seconds, attoseconds) = d.components
        return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 100).rounded() / 100
    }
}
