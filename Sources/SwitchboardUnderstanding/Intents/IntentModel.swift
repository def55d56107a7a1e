import Foundation

/// A trained intent classifier: multinomial logistic regression over the sentence vector joined with hashed
/// character n-grams, a temperature that calibrates its probabilities, and the out-of-scope threshold chosen with it.
///
/// Weights are stored feature-major: row `f` holds the `labels.count` weights of feature `f` (the sentence vector's
/// dimensions first, then the gram buckets), so a sparse feature adds one contiguous row.
public struct IntentModel: Sendable {
    /// The intent labels, in the order of the weights' columns.
    public var labels: [String]
    /// Dimensions of the sentence vector.
    public var vectorDimension: Int
    public var grams: CharGramFeatures
    /// Length of the gram part of the features (the sentence vector has length 1).
    public var gramScale: Float
    /// Inverse document frequency per gram bucket.
    public var idf: [Float]
    /// `(vectorDimension + grams.buckets) × labels.count`, feature-major.
    public var weights: [Float]
    public var bias: [Float]
    /// Logits are divided by this before the softmax (fitted on held-out folds).
    public var temperature: Float
    /// Unit vectors standing for the intents' examples (`Prototypes`), flattened; the out-of-scope score of a text
    /// is its sentence vector's highest cosine with one of them.
    public var prototypes: [Float]
    /// A text whose out-of-scope score (nearest-prototype cosine) is below this is out of scope.
    public var outOfScopeThreshold: Float
    /// How the model was made: data checksum, seed, hyper-parameters, measured figures.
    public var manifest: IntentModelManifest

    public init(
        labels: [String], vectorDimension: Int, grams: CharGramFeatures, gramScale: Float, idf: [Float], weights: [Float], bias: [Float],
        temperature: Float, prototypes: [Float], outOfScopeThreshold: Float, manifest: IntentModelManifest
    ) {
        self.labels = labels
        self.vectorDimension = vectorDimension
        self.grams = grams
        self.gramScale = gramScale
        self.idf = idf
        self.weights = weights
        self.bias = bias
        self.temperature = temperature
        self.prototypes = prototypes
        self.outOfScopeThreshold = outOfScopeThreshold
        self.manifest = manifest
    }

    public var featureCount: Int { vectorDimension + grams.buckets }

    /// The gram features of `text` as the model weighs them.
    public func gramFeatures(_ text: String) -> SparseVector { grams.vector(text, idf: idf, scale: gramScale) }

    /// Raw (uncalibrated) logits for a sentence vector and gram features.
    public func logits(vector: [Float], grams features: SparseVector) -> [Float] {
        let k = labels.count
        var z = bias
        weights.withUnsafeBufferPointer { w in
            z.withUnsafeMutableBufferPointer { z in
                for (d, x) in vector.enumerated() where x != 0 {
                    let row = d * k
                    for c in 0..<k { z[c] += x * w[row + c] }
                }
                for (n, index) in features.indices.enumerated() {
                    let row = (vectorDimension + Int(index)) * k
                    let x = features.values[n]
                    for c in 0..<k { z[c] += x * w[row + c] }
                }
            }
        }
        return z
    }

    /// Calibrated probabilities of every label for one text, given its sentence vector.
    public func probabilities(vector: [Float], text: String) -> [Float] {
        Self.softmax(logits(vector: vector, grams: gramFeatures(text)), temperature: temperature)
    }

    /// The out-of-scope score: how much the text looks like the intents' examples (nearest-prototype cosine, −1…1).
    public func similarity(vector: [Float]) -> Float { Prototypes.similarity(vector, prototypes, dimension: vectorDimension) }

    /// The labels ranked by calibrated probability, best first.
    public func ranked(vector: [Float], text: String) -> [(label: String, probability: Float)] {
        probabilities(vector: vector, text: text).enumerated().map { (labels[$0.offset], $0.element) }.sorted {
            $0.probability != $1.probability ? $0.probability > $1.probability : $0.label < $1.label
        }
    }

    static func softmax(_ logits: [Float], temperature: Float) -> [Float] {
        let scaled = logits.map { $0 / temperature }
        let top = scaled.max() ?? 0
        let exps = scaled.map { Float(exp(Double($0 - top))) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }
}

/// The record of how an intent model was made, committed beside it (`manifest.json`).
public struct IntentModelManifest: Sendable, Codable, Equatable {
    public var format: Int
    public var encoder: String
    public var dataSHA256: String
    public var examples: Int
    public var labels: Int
    public var seed: UInt64
    public var folds: Int
    /// Prototypes per intent for the out-of-scope score.
    public var prototypesPerIntent: Int
    /// Near-paraphrases (cosine ≥ this) shared a fold in the cross-validation.
    public var groupSimilar: Double?
    public var iterations: Int
    public var learningRate: Double
    public var l2: Double
    public var gramScale: Double
    public var grams: CharGramFeatures
    public var temperature: Double
    public var outOfScope: OutOfScopeCalibration?
    /// Out-of-fold accuracy of the cross-validation that fitted the temperature.
    public var crossValidationAccuracy: Double
    public var modelSHA256: String?

    public init(
        format: Int = IntentModelFile.formatVersion, encoder: String, dataSHA256: String, examples: Int, labels: Int, seed: UInt64,
        folds: Int, prototypesPerIntent: Int, groupSimilar: Double? = nil, iterations: Int, learningRate: Double, l2: Double, gramScale: Double,
        grams: CharGramFeatures, temperature: Double,
        outOfScope: OutOfScopeCalibration?, crossValidationAccuracy: Double, modelSHA256: String? = nil
    ) {
        self.format = format
        self.encoder = encoder
        self.dataSHA256 = dataSHA256
        self.examples = examples
        self.labels = labels
        self.seed = seed
        self.folds = folds
        self.prototypesPerIntent = prototypesPerIntent
        self.groupSimilar = groupSimilar
        self.iterations = iterations
        self.learningRate = learningRate
        self.l2 = l2
        self.gramScale = gramScale
        self.grams = grams
        self.temperature = temperature
        self.outOfScope = outOfScope
        self.crossValidationAccuracy = crossValidationAccuracy
        self.modelSHA256 = modelSHA256
    }
}

/// How the out-of-scope threshold was chosen, and what it gave on the data that chose it.
public struct OutOfScopeCalibration: Sendable, Codable, Equatable {
    public var threshold: Double
    /// The false-handoff rate aimed for on in-scope examples (out-of-fold scores).
    public var targetFalseHandoff: Double
    /// The share of calibration queries aimed to be caught.
    public var targetRecall: Double
    /// Measured at the threshold: in-scope examples below it (out-of-fold), calibration queries below it.
    public var falseHandoff: Double
    public var outOfScopeRecall: Double
    public var calibrationQueries: Int
    public var calibrationSHA256: String?

    public init(
        threshold: Double, targetFalseHandoff: Double, targetRecall: Double, falseHandoff: Double, outOfScopeRecall: Double, calibrationQueries: Int,
        calibrationSHA256: String?
    ) {
        self.threshold = threshold
        self.targetFalseHandoff = targetFalseHandoff
        self.targetRecall = targetRecall
        self.falseHandoff = falseHandoff
        self.outOfScopeRecall = outOfScopeRecall
        self.calibrationQueries = calibrationQueries
        self.calibrationSHA256 = calibrationSHA256
    }
}
