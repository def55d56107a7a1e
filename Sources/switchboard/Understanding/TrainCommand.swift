import ArgumentParser
import Foundation
import SwitchboardEmbedding
import SwitchboardUnderstanding

/// `switchboard train`: models Switchboard trains itself, reproducibly.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train Switchboard's own models from data.", subcommands: [Intents.self, TrainQuestionPoolCommand.self])

    struct Intents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the intent model: logistic regression over the sentence vector and character n-grams.",
            discussion: """
                Embeds every example with the embedded model, runs k-fold cross-validation to calibrate the confidence
                (temperature) and choose the out-of-scope threshold, then trains on everything. Same data, settings and
                seed → a byte-identical model file. Writes the model and manifest.json (data checksum, seed, measured
                figures) into the output's folder.

                Examples:
                  switchboard train intents --data ../shared/eval/bitext/train.csv --oos ../shared/eval/clinc-oos/oos_train_val.json
                  switchboard train intents --data base.csv --examples tenant-examples.csv --out /tmp/tenant/intents.sbm
                """)
        @OptionGroup var data: IntentDataOptions
        @Option(help: "A tenant's own examples (same CSV layout), added to --data.") var examples: String?
        @Option(help: "Where the model goes; manifest.json is written beside it.") var out = "Models/intents/intents.sbm"
        @Flag(help: "Print the manifest as JSON.") var json = false

        func run() async throws {
            var (rows, dataSHA) = try data.readRows()
            if let examples {
                let extra = try IntentDataOptions.read(examples)
                rows += extra.rows
                dataSHA = IntentModelFile.sha256(Array((dataSHA + extra.sha256).utf8))
            }
            let outOfScope = try data.readOutOfScope()
            let trainer = IntentTrainer(settings: data.trainerSettings)
            let started = ContinuousClock.now
            let model = try await withEmbedder { embedder in
                let vectors = try await embedAll(rows.map(\.text), with: embedder, label: "embedded examples")
                let oosTexts = (outOfScope?.train ?? []) + (outOfScope?.validation ?? [])
                let oosVectors = try await embedAll(oosTexts, with: embedder, label: "embedded out-of-scope queries")
                let examples = zip(rows, vectors).map { IntentExample(text: $0.text, label: $0.intent, vector: $1) }
                let outside = zip(oosTexts, oosVectors).map { IntentExample(text: $0, label: "", vector: $1) }
                let progress = TerminalProgress(label: "fits (\(trainer.settings.folds) folds + final)")
                let model = try await runTraining {
                    try await trainer.trainDetached(examples, outOfScope: outside, dataSHA256: dataSHA, calibrationSHA256: outOfScope?.sha256) {
                        progress.update($0, $1)
                    }
                }
                progress.finish()
                return model
            }
            do {
                try FileManager.default.createDirectory(
                    atPath: (out as NSString).deletingLastPathComponent.isEmpty ? "." : (out as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true)
                try IntentModelFile.write(model, to: out)
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
            let written = try IntentModelFile.read(path: out)
            if json { return print(try jsonText(written.manifest)) }
            let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            print(
                "trained \(model.labels.count) intents on \(rows.count) examples in \(Int((ContinuousClock.now - started).seconds)) s → \(out) (\(size / 1024) KB)"
            )
            print(
                "  cross-validated accuracy \(model.manifest.crossValidationAccuracy) (\(model.manifest.folds) folds), temperature \(model.temperature)"
            )
            if let oos = model.manifest.outOfScope {
                print(
                    "  out-of-scope threshold \(oos.threshold): \(oos.outOfScopeRecall) of \(oos.calibrationQueries) calibration queries caught, "
                        + "\(oos.falseHandoff) of in-scope examples (out-of-fold) handed off")
            } else {
                print("  no --oos queries: the threshold is the \(trainer.settings.targetFalseHandoff) quantile of in-scope confidence")
            }
            print("  model sha256 \(written.manifest.modelSHA256 ?? "")")
        }
    }
}

/// The data options `train intents` and `eval intents` share.
struct IntentDataOptions: ParsableArguments {
    @Option(help: "CSV of examples: a text/instruction/question column and an intent column.") var data: String
    @Option(help: "Out-of-scope queries: JSON list, CLINC's oos_train/oos_val object, or one per line.") var oos: String?
    @Option(help: "Seed of the fold shuffle.") var seed: UInt64 = 42
    @Option(help: "Cross-validation folds that calibrate the model.") var folds = 5
    @Option(help: "Optimiser iterations per fit.") var iterations = 300
    @Option(help: "Weight of the character n-gram features against the sentence vector (0 turns them off).") var gramScale: Float = 2
    @Option(help: "Share of in-scope examples the out-of-scope threshold may hand off.") var targetFalseHandoff = 0.01
    @Option(help: "Share of the out-of-scope calibration queries the threshold aims to catch.") var targetRecall = 0.98
    @Option(help: "Keep near-paraphrases (cosine ≥ this) in one cross-validation fold; 0 deals examples one by one.")
    var foldGrouping = 0.88

    var trainerSettings: IntentTrainer.Settings {
        var settings = IntentTrainer.Settings()
        settings.seed = seed
        settings.folds = folds
        settings.iterations = iterations
        settings.gramScale = gramScale
        settings.targetFalseHandoff = targetFalseHandoff
        settings.groupSimilar = foldGrouping > 0 ? foldGrouping : nil
        settings.targetRecall = targetRecall
        return settings
    }

    func readRows() throws -> (rows: [LabelledText], sha256: String) { try Self.read(data) }

    static func read(_ path: String) throws -> (rows: [LabelledText], sha256: String) {
        do { return try IntentDataReader.read(path: path) } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    func readOutOfScope() throws -> (train: [String], validation: [String], sha256: String)? {
        guard let oos else { return nil }
        do { return try IntentDataReader.readOutOfScope(path: oos) } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Runs a training step; its data errors become one clear line and exit 1.
func runTraining<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as IntentModelError {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}

/// Sentence vectors of `texts`, in batches, with progress at a terminal.
func embedAll(_ texts: [String], with embedder: EmbeddingService, label: String) async throws -> [[Float]] {
    guard !texts.isEmpty else { return [] }
    let progress = TerminalProgress(label: label)
    var vectors: [[Float]] = []
    vectors.reserveCapacity(texts.count)
    for start in stride(from: 0, to: texts.count, by: 64) {
        vectors += try await embedder.embed(Array(texts[start..<min(texts.count, start + 64)]))
        progress.update(vectors.count, texts.count)
    }
    progress.finish()
    return vectors
}
