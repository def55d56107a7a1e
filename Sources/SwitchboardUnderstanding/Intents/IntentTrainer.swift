import Dispatch
import Foundation
import Synchronization

/// One labelled training text with its sentence vector.
public struct IntentExample: Sendable {
    public var text: String
    public var label: String
    public var vector: [Float]

    public init(text: String, label: String, vector: [Float]) {
        self.text = text
        self.label = label
        self.vector = vector
    }
}

/// Trains an `IntentModel`, deterministically: the same examples, settings and seed give the same model, bit for bit.
///
/// Full-batch Adam on the softmax cross-entropy with an L2 penalty, from zero weights, in plain Swift loops with a fixed
/// summation order (no threads inside one fit, no BLAS whose kernels differ between CPUs). The seed only shuffles the
/// cross-validation folds. Training runs `folds` fits to get out-of-fold logits — which fit the temperature and the
/// out-of-scope threshold and give the cross-validated accuracy — then one fit on everything.
public struct IntentTrainer: Sendable {
    public struct Settings: Sendable {
        public var seed: UInt64 = 42
        public var folds = 5
        public var iterations = 300
        public var learningRate = 0.05
        public var l2 = 1e-5
        public var gramScale: Float = 2
        public var grams = CharGramFeatures()
        /// The share of in-scope examples (out-of-fold) the out-of-scope threshold may send to a person.
        public var targetFalseHandoff = 0.01
        /// The share of calibration out-of-scope queries the threshold aims to catch.
        public var targetRecall = 0.98
        /// Prototypes per intent for the out-of-scope score.
        public var prototypesPerIntent = 16
        /// Cross-validation keeps near-paraphrases (sentence vectors with cosine ≥ this) in one fold, so the
        /// out-of-fold confidences that fit the temperature and the threshold are those of new phrasings, not of
        /// rewordings of training examples; nil deals examples to folds one by one.
        public var groupSimilar: Double? = 0.88

        public init() {}
    }

    /// Out-of-fold predictions of the cross-validation, for reports.
    public struct CrossValidation: Sendable {
        /// Per example: the calibrated probabilities a model that never saw it gave.
        public var probabilities: [[Float]]
        /// Per example: its out-of-scope score against prototypes made without it.
        public var similarities: [Float]
        public var accuracy: Double
    }

    public var settings: Settings

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// Trains on `examples`; `outOfScope` (vectors and texts of queries no intent covers) calibrates the threshold.
    /// `progress(done, total)` is called after each fit.
    public func train(
        _ examples: [IntentExample], outOfScope: [IntentExample] = [], dataSHA256: String, calibrationSHA256: String? = nil,
        progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) throws(IntentModelError) -> (model: IntentModel, crossValidation: CrossValidation) {
        let labels = Array(Set(examples.map(\.label))).sorted()
        guard labels.count >= 2 else { throw .badData("at least two intents are needed, found \(labels.count)") }
        guard let dimension = examples.first?.vector.count, examples.allSatisfy({ $0.vector.count == dimension }) else {
            throw .badData("examples need sentence vectors of one dimension")
        }
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        let y = examples.map { index[$0.label]! }
        let folds = max(2, min(settings.folds, examples.count))
        let counts = examples.map { settings.grams.counts($0.text) }
        let assignment =
            settings.groupSimilar.map {
                SimilarityGroups.folds(
                    groups: SimilarityGroups.groups(examples.map(\.vector), threshold: Float($0)), count: folds, seed: settings.seed)
            } ?? foldAssignment(y, folds: folds)
        let total = folds + 1

        // Cross-validation: each fold's model scores the examples it did not see.
        let done = Mutex(0)
        var outOfFold = [[Float]](repeating: [], count: examples.count)
        let foldResults = ResultBox<[(Int, [Float], Float)]>(count: folds)
        DispatchQueue.concurrentPerform(iterations: folds) { fold in
            let train = examples.indices.filter { assignment[$0] != fold }
            let test = examples.indices.filter { assignment[$0] == fold }
            let fit = fit(vectors: train.map { examples[$0].vector }, counts: train.map { counts[$0] }, y: train.map { y[$0] }, k: labels.count)
            let prototypes = Prototypes.fit(
                vectors: train.map { examples[$0].vector }, labels: train.map { y[$0] }, labelCount: labels.count,
                perLabel: settings.prototypesPerIntent, seed: settings.seed)
            foldResults.set(
                fold,
                test.map {
                    (
                        $0, fit.logits(vector: examples[$0].vector, counts: counts[$0]),
                        Prototypes.similarity(examples[$0].vector, prototypes, dimension: dimension)
                    )
                })
            progress(
                done.withLock {
                    $0 += 1
                    return $0
                }, total)
        }
        var similarities = [Float](repeating: 0, count: examples.count)
        for results in foldResults.values {
            for (n, logits, similarity) in results {
                outOfFold[n] = logits
                similarities[n] = similarity
            }
        }
        let temperature = fitTemperature(logits: outOfFold, y: y)
        let probabilities = outOfFold.map { IntentModel.softmax($0, temperature: temperature) }
        let correct = zip(probabilities, y).filter { argmax($0.0) == $0.1 }.count
        let accuracy = Double(correct) / Double(examples.count)

        let final = fit(vectors: examples.map(\.vector), counts: counts, y: y, k: labels.count)
        progress(total, total)
        var model = IntentModel(
            labels: labels, vectorDimension: dimension, grams: settings.grams, gramScale: settings.gramScale, idf: final.idf,
            weights: final.weights.map { Float(Float16($0)) }, bias: final.bias, temperature: temperature,
            prototypes: Prototypes.fit(
                vectors: examples.map(\.vector), labels: y, labelCount: labels.count, perLabel: settings.prototypesPerIntent, seed: settings.seed
            ).map { Float(Float16($0)) }, outOfScopeThreshold: 0,
            manifest: IntentModelManifest(
                encoder: "all-MiniLM-L6-v2", dataSHA256: dataSHA256, examples: examples.count, labels: labels.count, seed: settings.seed,
                folds: folds, prototypesPerIntent: settings.prototypesPerIntent, groupSimilar: settings.groupSimilar, iterations: settings.iterations,
                learningRate: settings.learningRate, l2: settings.l2,
                gramScale: Double(settings.gramScale), grams: settings.grams, temperature: Double("\(temperature)") ?? 0, outOfScope: nil,
                crossValidationAccuracy: (accuracy * 10000).rounded() / 10000))

        // The threshold: in-scope scores are out-of-fold; out-of-scope queries were never trained on, so the final
        // model scores them.
        let inScope = similarities.map { Double($0) }
        let outside = outOfScope.map { Double(model.similarity(vector: $0.vector)) }
        let calibration = OutOfScopeThreshold.choose(
            inScope: inScope, outOfScope: outside, targetFalseHandoff: settings.targetFalseHandoff, targetRecall: settings.targetRecall,
            calibrationSHA256: calibrationSHA256)
        model.outOfScopeThreshold = Float(calibration.threshold)
        model.manifest.outOfScope = calibration
        return (model, CrossValidation(probabilities: probabilities, similarities: similarities, accuracy: accuracy))
    }

    /// One fit on all of `examples`, without cross-validation: temperature 1, no out-of-scope threshold. For
    /// baselines and quick experiments; `train` is the recipe that makes shipped models.
    public func fitOnly(_ examples: [IntentExample]) throws(IntentModelError) -> IntentModel {
        let labels = Array(Set(examples.map(\.label))).sorted()
        guard labels.count >= 2, let dimension = examples.first?.vector.count else { throw .badData("at least two intents are needed") }
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        let counts = examples.map { settings.grams.counts($0.text) }
        let fit = fit(vectors: examples.map(\.vector), counts: counts, y: examples.map { index[$0.label]! }, k: labels.count)
        return IntentModel(
            labels: labels, vectorDimension: dimension, grams: settings.grams, gramScale: settings.gramScale, idf: fit.idf,
            weights: fit.weights, bias: fit.bias, temperature: 1, prototypes: [], outOfScopeThreshold: 0,
            manifest: IntentModelManifest(
                encoder: "all-MiniLM-L6-v2", dataSHA256: "", examples: examples.count, labels: labels.count, seed: settings.seed, folds: 0,
                prototypesPerIntent: 0,
                iterations: settings.iterations, learningRate: settings.learningRate, l2: settings.l2, gramScale: Double(settings.gramScale),
                grams: settings.grams, temperature: 1, outOfScope: nil, crossValidationAccuracy: 0))
    }

    /// The fold (0..<folds) of each example: stratified by label, shuffled by `seed`.
    public static func folds(labels: [String], count folds: Int, seed: UInt64) -> [Int] {
        var settings = Settings()
        settings.seed = seed
        let names = Array(Set(labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return IntentTrainer(settings: settings).foldAssignment(labels.map { index[$0]! }, folds: folds)
    }

    // MARK: One fit

    struct Fit {
        var weights: [Float]
        var bias: [Float]
        var idf: [Float]
        var scale: Float
        var grams: CharGramFeatures
        var dimension: Int
        var k: Int

        func logits(vector: [Float], counts: SparseVector) -> [Float] {
            let features = grams.weighted(counts, idf: idf, scale: scale)
            var z = bias
            for (d, x) in vector.enumerated() { for c in 0..<k { z[c] += x * weights[d * k + c] } }
            for (n, index) in features.indices.enumerated() {
                let row = (dimension + Int(index)) * k
                for c in 0..<k { z[c] += features.values[n] * weights[row + c] }
            }
            return z
        }
    }

    func fit(vectors: [[Float]], counts: [SparseVector], y: [Int], k: Int) -> Fit {
        let n = vectors.count
        let dimension = vectors[0].count
        let idf = settings.grams.inverseDocumentFrequency(counts)
        let grams = counts.map { settings.grams.weighted($0, idf: idf, scale: settings.gramScale) }
        let features = dimension + settings.grams.buckets
        var w = [Float](repeating: 0, count: features * k)
        var b = [Float](repeating: 0, count: k)
        var adam = Adam(count: features * k + k, rate: Float(settings.learningRate))
        var gradient = [Float](repeating: 0, count: features * k + k)
        var z = [Float](repeating: 0, count: k)
        let l2 = Float(settings.l2)
        let inverseN = 1 / Float(n)
        for _ in 0..<settings.iterations {
            for i in gradient.indices { gradient[i] = 0 }
            w.withUnsafeBufferPointer { w in
                gradient.withUnsafeMutableBufferPointer { g in
                    z.withUnsafeMutableBufferPointer { z in
                        for i in 0..<n {
                            // Forward: logits of example i.
                            for c in 0..<k { z[c] = b[c] }
                            vectors[i].withUnsafeBufferPointer { x in
                                for d in 0..<dimension {
                                    let xd = x[d]
                                    let row = d * k
                                    for c in 0..<k { z[c] += xd * w[row + c] }
                                }
                            }
                            let sparse = grams[i]
                            for (m, index) in sparse.indices.enumerated() {
                                let row = (dimension + Int(index)) * k
                                let xm = sparse.values[m]
                                for c in 0..<k { z[c] += xm * w[row + c] }
                            }
                            // Softmax minus the one-hot target, scaled by 1/n: dLoss/dz.
                            var top = z[0]
                            for c in 1..<k where z[c] > top { top = z[c] }
                            var sum: Float = 0
                            for c in 0..<k {
                                z[c] = expf(z[c] - top)
                                sum += z[c]
                            }
                            for c in 0..<k { z[c] = z[c] / sum * inverseN }
                            z[y[i]] -= inverseN
                            // Backward: accumulate the gradient.
                            vectors[i].withUnsafeBufferPointer { x in
                                for d in 0..<dimension {
                                    let xd = x[d]
                                    let row = d * k
                                    for c in 0..<k { g[row + c] += xd * z[c] }
                                }
                            }
                            for (m, index) in sparse.indices.enumerated() {
                                let row = (dimension + Int(index)) * k
                                let xm = sparse.values[m]
                                for c in 0..<k { g[row + c] += xm * z[c] }
                            }
                            for c in 0..<k { g[features * k + c] += z[c] }
                        }
                    }
                }
            }
            for i in 0..<(features * k) { gradient[i] += l2 * w[i] }
            adam.step(parameters: &w, bias: &b, gradient: gradient)
        }
        return Fit(weights: w, bias: b, idf: idf, scale: settings.gramScale, grams: settings.grams, dimension: dimension, k: k)
    }

    // MARK: Helpers

    /// Stratified folds: each label's examples, shuffled by the seed, dealt round-robin.
    func foldAssignment(_ y: [Int], folds: Int) -> [Int] {
        var generator = SplitMix64(seed: settings.seed)
        var assignment = [Int](repeating: 0, count: y.count)
        var next = 0
        for label in Set(y).sorted() {
            var members = y.indices.filter { y[$0] == label }
            for i in stride(from: members.count - 1, to: 0, by: -1) {
                members.swapAt(i, Int(generator.next() % UInt64(i + 1)))
            }
            for member in members {
                assignment[member] = next % folds
                next += 1
            }
        }
        return assignment
    }

    /// The temperature minimising the negative log-likelihood of out-of-fold logits (golden-section search on log T).
    func fitTemperature(logits: [[Float]], y: [Int]) -> Float {
        func loss(_ logT: Double) -> Double {
            let t = Float(exp(logT))
            var total = 0.0
            for (z, label) in zip(logits, y) {
                let p = IntentModel.softmax(z, temperature: t)[label]
                total -= log(max(Double(p), 1e-12))
            }
            return total
        }
        var low = log(0.05)
        var high = log(20.0)
        let ratio = (sqrt(5.0) - 1) / 2
        for _ in 0..<60 {
            let a = high - ratio * (high - low)
            let b = low + ratio * (high - low)
            if loss(a) < loss(b) { high = b } else { low = a }
        }
        return Float((exp((low + high) / 2) * 1e4).rounded() / 1e4)
    }
}

func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}

/// Adam with the usual constants (β₁ 0.9, β₂ 0.999, ε 1e-8), over a weight array and a bias array.
struct Adam {
    var m: [Float]
    var v: [Float]
    var t = 0
    let rate: Float

    init(count: Int, rate: Float) {
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
        self.rate = rate
    }

    mutating func step(parameters w: inout [Float], bias b: inout [Float], gradient: [Float]) {
        t += 1
        let c1 = 1 - Float(pow(0.9, Double(t)))
        let c2 = 1 - Float(pow(0.999, Double(t)))
        for i in gradient.indices {
            m[i] = 0.9 * m[i] + 0.1 * gradient[i]
            v[i] = 0.999 * v[i] + 0.001 * gradient[i] * gradient[i]
            let update = rate * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-8)
            if i < w.count { w[i] -= update } else { b[i - w.count] -= update }
        }
    }
}

/// Results of parallel folds, one slot each.
final class ResultBox<T: Sendable>: Sendable {
    private let slots: Mutex<[T?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    func set(_ index: Int, _ value: T) { slots.withLock { $0[index] = value } }
    var values: [T] { slots.withLock { $0.compactMap { $0 } } }
}

extension IntentTrainer {
    /// `train`, on a thread of its own: training is minutes of CPU, which must not hold a thread of Swift's
    /// cooperative pool (the worker's other jobs, the embedding service's callers run there).
    public func trainDetached(
        _ examples: [IntentExample], outOfScope: [IntentExample] = [], dataSHA256: String, calibrationSHA256: String? = nil,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> IntentModel {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<IntentModel, any Error>) in
            let thread = Thread {
                do {
                    let (model, _) = try self.train(
                        examples, outOfScope: outOfScope, dataSHA256: dataSHA256, calibrationSHA256: calibrationSHA256, progress: progress)
                    continuation.resume(returning: model)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "intent-trainer"
            thread.start()
        }
    }
}
