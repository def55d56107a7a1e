import Foundation
public import SwitchboardEmbedding

/// What `switchboard eval intents` measured.
public struct IntentEvaluationReport: Sendable, Codable {
    public struct MultiIntent: Sendable, Codable {
        public var turns: Int
        /// Both intents among the turn's intents.
        public var bothFound: Double
        public var firstFound: Double
        public var secondFound: Double
        /// Intents reported beyond the two, per turn.
        public var extraPerTurn: Double
    }
    public struct Baseline: Sendable, Codable {
        public var accuracy: Double
        public var macroF1: Double
        public var outOfScope: OutOfScopeMetrics?
    }

    public var mode: String
    public var trainedOn: Int
    public var temperature: Double
    public var model: IntentMetrics
    public var outOfScope: OutOfScopeMetrics?
    public var outOfScopeNote: String?
    public var multiIntent: MultiIntent?
    public var entities: EntityRecall
    public var baselines: [String: Baseline]
    /// Median time to understand one synthesised turn (embedding included), in milliseconds.
    public var turnMillisecondsP50: Double?

    public func rendered() -> String {
        var lines = ["\(mode): \(model.examples) examples judged, \(trainedOn) trained on, temperature \(temperature)"]
        lines.append("")
        var rows = [
            [
                "switchboard", "\(model.accuracy)", "\(model.macroF1)",
                outOfScope.map { "\($0.recall) @ \($0.falseHandoff) (t=\($0.threshold))" } ?? "-",
            ]
        ]
        for (name, b) in baselines.sorted(by: { $0.key < $1.key }) {
            rows.append([name, "\(b.accuracy)", "\(b.macroF1)", b.outOfScope.map { "\($0.recall) @ \($0.falseHandoff) (t=\($0.threshold))" } ?? "-"])
        }
        lines.append(table(["MODEL", "ACCURACY", "MACRO-F1", "OUT-OF-SCOPE RECALL @ FALSE HANDOFF"], rows))
        if let note = outOfScopeNote { lines.append("  (\(note))") }
        if let m = multiIntent {
            lines.append("")
            lines.append(
                "two-intent turns: \(m.turns), both found \(m.bothFound) (first \(m.firstFound), second \(m.secondFound)), "
                    + "\(m.extraPerTurn) extra intents per turn" + (turnMillisecondsP50.map { ", \($0) ms per turn (p50)" } ?? ""))
        }
        lines.append("")
        lines.append(
            "entity recall: "
                + entities.byType.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value.recall) (\($0.value.found)/\($0.value.total))" }
                .joined(separator: ", "))
        for (type, missed) in entities.misses.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(type) missed (text | annotated | found):")
            for m in missed { lines.append("    \(m)") }
        }
        lines.append("")
        lines.append("per intent (worst recall first):")
        let worst = model.perIntent.sorted { $0.value.recall != $1.value.recall ? $0.value.recall < $1.value.recall : $0.key < $1.key }.prefix(8)
        lines.append(
            table(
                ["INTENT", "PRECISION", "RECALL", "SUPPORT"],
                worst.map { [$0.key, "\($0.value.precision)", "\($0.value.recall)", "\($0.value.support)"] }))
        if !model.confusions.isEmpty {
            lines.append("")
            lines.append("confusions (expected → predicted):")
            for c in model.confusions { lines.append("  \(c.expected) → \(c.predicted): \(c.count)") }
        }
        return lines.joined(separator: "\n")
    }

    private func table(_ headers: [String], _ rows: [[String]]) -> String {
        let widths = headers.indices.map { i in ([headers[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}

/// The evaluation's three modes over examples that are already embedded.
public struct IntentEvaluationRun: Sendable {
    public var examples: [IntentExample]
    public var rows: [LabelledText]
    public var outOfScopeTrain: [IntentExample]
    public var outOfScopeEval: [IntentExample]
    public var embedder: EmbeddingService
    public var trainer: IntentTrainer
    public var dataSHA: String
    public var calibrationSHA: String?
    public var baselines: Bool
    public var multiIntentTurns: Int
    public var confusions: Int

    public init(
        examples: [IntentExample], rows: [LabelledText], outOfScopeTrain: [IntentExample], outOfScopeEval: [IntentExample],
        embedder: EmbeddingService, trainer: IntentTrainer, dataSHA: String, calibrationSHA: String?, baselines: Bool, multiIntentTurns: Int,
        confusions: Int
    ) {
        self.examples = examples
        self.rows = rows
        self.outOfScopeTrain = outOfScopeTrain
        self.outOfScopeEval = outOfScopeEval
        self.embedder = embedder
        self.trainer = trainer
        self.dataSHA = dataSHA
        self.calibrationSHA = calibrationSHA
        self.baselines = baselines
        self.multiIntentTurns = multiIntentTurns
        self.confusions = confusions
    }

    /// Judges a trained model on all the examples and out-of-scope queries.
    public func judge(_ model: IntentModel) async throws -> IntentEvaluationReport {
        let outside = outOfScopeTrain + outOfScopeEval
        return try await report(
            mode: "model \(model.manifest.modelSHA256?.prefix(12) ?? "in use")", model: model, test: Array(examples.indices), outside: outside,
            trainedOn: model.manifest.examples, baselineTrain: nil)
    }

    /// Trains on all but a held-out share (stratified), calibrating on `outOfScopeTrain`; judges on the share and on
    /// `outOfScopeEval` (or, when the file has no split, on the calibration queries — said in the report).
    /// With `groupSimilar`, near-paraphrases (cosine ≥ it) stay on one side of the split (`SimilarityGroups`).
    public func holdOut(_ share: Double, groupSimilar: Float? = nil) async throws -> IntentEvaluationReport {
        let folds = max(2, Int((1 / share).rounded()))
        let assignment =
            groupSimilar.map {
                SimilarityGroups.folds(
                    groups: SimilarityGroups.groups(examples.map(\.vector), threshold: $0), count: folds, seed: trainer.settings.seed &+ 1)
            } ?? IntentTrainer.folds(labels: examples.map(\.label), count: folds, seed: trainer.settings.seed &+ 1)
        let test = examples.indices.filter { assignment[$0] == 0 }
        let train = examples.indices.filter { assignment[$0] != 0 }
        let (model, _) = try trainer.train(
            train.map { examples[$0] }, outOfScope: outOfScopeTrain, dataSHA256: dataSHA, calibrationSHA256: calibrationSHA)
        var result = try await report(
            mode: "held out \(Int(share * 100)) %" + (groupSimilar.map { ", paraphrases (cosine ≥ \($0)) kept together" } ?? ""), model: model,
            test: test, outside: outOfScopeEval.isEmpty ? outOfScopeTrain : outOfScopeEval,
            trainedOn: train.count, baselineTrain: train)
        if outOfScopeEval.isEmpty, !outOfScopeTrain.isEmpty {
            result.outOfScopeNote = "the out-of-scope file has no validation split: recall is measured on the calibration queries"
        } else if !outOfScopeEval.isEmpty {
            result.outOfScopeNote =
                "threshold from the training share and \(outOfScopeTrain.count) calibration queries; judged on \(outOfScopeEval.count) others"
        }
        return result
    }

    /// Cross-validates the recipe: every example is predicted by a model that did not see it.
    public func crossValidate() async throws -> IntentEvaluationReport {
        let outside = outOfScopeTrain + outOfScopeEval
        let (model, cv) = try trainer.train(examples, outOfScope: outside, dataSHA256: dataSHA, calibrationSHA256: calibrationSHA)
        let predicted = cv.probabilities.map { model.labels[argmax($0)] }
        let metrics = IntentMetrics(expected: examples.map(\.label), predicted: predicted, confusionsShown: confusions)
        let inScope = cv.similarities.map { Double($0) }
        let outsideScores = outside.map { Double(model.similarity(vector: $0.vector)) }
        var baselineReports: [String: IntentEvaluationReport.Baseline] = [:]
        if baselines {
            let k = trainer.settings.folds
            let assignment = IntentTrainer.folds(labels: examples.map(\.label), count: k, seed: trainer.settings.seed)
            var lr = [String](repeating: "", count: examples.count)
            var centroid = lr
            for fold in 0..<k {
                let train = examples.indices.filter { assignment[$0] != fold }.map { examples[$0] }
                let linear = try baselineTrainer.fitOnly(train)
                let centroids = CentroidBaseline(train)
                for i in examples.indices where assignment[i] == fold {
                    lr[i] = linear.labels[argmax(linear.probabilities(vector: examples[i].vector, text: ""))]
                    centroid[i] = centroids.best(examples[i].vector).label
                }
            }
            for (name, predictions) in [("logistic regression (vector only)", lr), ("nearest centroid", centroid)] {
                let m = IntentMetrics(expected: examples.map(\.label), predicted: predictions)
                baselineReports[name] = .init(accuracy: m.accuracy, macroF1: m.macroF1, outOfScope: nil)
            }
        }
        return IntentEvaluationReport(
            mode: "\(trainer.settings.folds)-fold cross-validation", trainedOn: examples.count,
            temperature: IntentMetrics.round(Double(model.temperature)), model: metrics,
            outOfScope: outside.isEmpty
                ? nil : OutOfScopeMetrics(threshold: Double(model.outOfScopeThreshold), inScope: inScope, outOfScope: outsideScores),
            outOfScopeNote: outside.isEmpty ? nil : "in-scope scores out-of-fold; the out-of-scope queries also chose the threshold (in-sample)",
            multiIntent: nil, entities: EntityRecall(rows: rows, extractor: EntityExtractor()), baselines: baselineReports)
    }

    private var baselineTrainer: IntentTrainer {
        var settings = trainer.settings
        settings.gramScale = 0
        settings.grams = CharGramFeatures(buckets: 1, minimumLength: 2, maximumLength: 2)
        return IntentTrainer(settings: settings)
    }

    private func report(
        mode: String, model: IntentModel, test: [Int], outside: [IntentExample], trainedOn: Int, baselineTrain: [Int]?
    ) async throws -> IntentEvaluationReport {
        let probabilities = test.map { model.probabilities(vector: examples[$0].vector, text: examples[$0].text) }
        let metrics = IntentMetrics(
            expected: test.map { examples[$0].label }, predicted: probabilities.map { model.labels[argmax($0)] }, confusionsShown: confusions)
        let inScope = test.map { Double(model.similarity(vector: examples[$0].vector)) }
        let outsideScores = outside.map { Double(model.similarity(vector: $0.vector)) }
        // Two-intent turns from the judged examples, through the whole turn classifier.
        let classifier = TurnClassifier(model: model, embedder: embedder)
        let turns = MultiIntentTurns.make(from: test.map { rows[$0] }, count: multiIntentTurns, seed: trainer.settings.seed)
        var both = 0
        var first = 0
        var second = 0
        var extra = 0
        var times: [Double] = []
        for turn in turns {
            let understood = try await classifier.understand(turn.text)
            let names = Set(understood.intents.map(\.name))
            let a = names.contains(turn.intents.0)
            let b = names.contains(turn.intents.1)
            first += a ? 1 : 0
            second += b ? 1 : 0
            both += a && b ? 1 : 0
            extra += names.subtracting([turn.intents.0, turn.intents.1]).count
            times.append(understood.timings.totalMs)
        }
        times.sort()
        let n = Double(max(1, turns.count))
        var baselineReports: [String: IntentEvaluationReport.Baseline] = [:]
        if baselines, let baselineTrain {
            let train = baselineTrain.map { examples[$0] }
            let linear = try baselineTrainer.fitOnly(train)
            let centroids = CentroidBaseline(train)
            let expected = test.map { examples[$0].label }
            let lr = IntentMetrics(
                expected: expected, predicted: test.map { linear.labels[argmax(linear.probabilities(vector: examples[$0].vector, text: ""))] })
            let nc = IntentMetrics(expected: expected, predicted: test.map { centroids.best(examples[$0].vector).label })
            baselineReports["logistic regression (vector only)"] = .init(accuracy: lr.accuracy, macroF1: lr.macroF1, outOfScope: nil)
            baselineReports["nearest centroid"] = .init(
                accuracy: nc.accuracy, macroF1: nc.macroF1,
                outOfScope: outside.isEmpty
                    ? nil
                    : OutOfScopeMetrics(
                        threshold: Double(centroids.threshold), inScope: test.map { Double(centroids.best(examples[$0].vector).score) },
                        outOfScope: outside.map { Double(centroids.best($0.vector).score) }))
        }
        return IntentEvaluationReport(
            mode: mode, trainedOn: trainedOn, temperature: IntentMetrics.round(Double(model.temperature)), model: metrics,
            outOfScope: outside.isEmpty
                ? nil : OutOfScopeMetrics(threshold: Double(model.outOfScopeThreshold), inScope: inScope, outOfScope: outsideScores),
            outOfScopeNote: nil,
            multiIntent: turns.isEmpty
                ? nil
                : .init(
                    turns: turns.count, bothFound: IntentMetrics.round(Double(both) / n), firstFound: IntentMetrics.round(Double(first) / n),
                    secondFound: IntentMetrics.round(Double(second) / n), extraPerTurn: IntentMetrics.round(Double(extra) / n)),
            entities: EntityRecall(rows: test.map { rows[$0] }, extractor: EntityExtractor()), baselines: baselineReports,
            turnMillisecondsP50: times.isEmpty ? nil : times[times.count / 2])
    }
}
