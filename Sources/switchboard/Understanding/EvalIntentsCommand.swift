import ArgumentParser
import Foundation
import SwitchboardEmbedding
import SwitchboardUnderstanding

extension EvalCommand {
    struct Intents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Intent accuracy, macro-F1, confusions, out-of-scope, two-intent turns and entity recall.",
            discussion: """
                Three ways to run it:
                  (default)       judge the model in use (SWITCHBOARD_INTENT_MODEL) on --data and --oos;
                  --holdout 0.2   train on the rest of --data (and CLINC's oos_train) by the shipped recipe, judge on the
                                  held-out share (and oos_val); --group-similar 0.88 keeps paraphrases on one side;
                  --folds 5       cross-validate the recipe on all of --data.
                --baselines adds logistic regression on the sentence vector alone and the nearest centroid, trained on the
                same examples (holdout and folds). Two-intent turns join two held-out questions of different intents
                (" and also ", ". Also, ", a line break); "both found" means both intents are among the turn's intents.

                Examples:
                  switchboard eval intents --data ../shared/eval/bitext/train.csv --oos ../shared/eval/clinc-oos/oos_train_val.json
                  switchboard eval intents --data ../shared/eval/bitext/train.csv --oos ../shared/eval/clinc-oos/oos_train_val.json \\
                    --holdout 0.2 --baselines
                """)
        @OptionGroup var data: IntentDataOptions
        @Option(help: "Hold out this share of --data (stratified, by --seed) and train on the rest.") var holdout: Double?
        @Flag(help: "Cross-validate with --folds instead of judging the model in use.") var crossValidate = false
        @Option(help: "With --holdout: keep near-paraphrases (cosine ≥ this, e.g. 0.88) on one side of the split.") var groupSimilar: Float?
        @Flag(help: "Also report the logistic-regression and nearest-centroid baselines.") var baselines = false
        @Option(help: "Two-intent turns to synthesise.") var multiIntentTurns = 600
        @Option(help: "Confusion pairs to list.") var confusions = 10
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            if let holdout, !(0.05...0.5).contains(holdout) { throw ValidationError("--holdout is a share between 0.05 and 0.5") }
            if holdout != nil && crossValidate { throw ValidationError("choose --holdout or --cross-validate, not both") }
        }

        func run() async throws {
            let (rows, dataSHA) = try data.readRows()
            let outOfScope = try data.readOutOfScope()
            let settings = try Settings.fromEnvironment()
            let shipped = holdout == nil && !crossValidate ? try settings.intentModel() : nil
            let report = try await withEmbedder { embedder in
                let vectors = try await embedAll(rows.map(\.text), with: embedder, label: "embedded examples")
                let examples = zip(rows, vectors).map { IntentExample(text: $0.text, label: $0.intent, vector: $1) }
                let oosTrainTexts = outOfScope?.train ?? []
                let oosEvalTexts = outOfScope?.validation ?? []
                let oosTrain = zip(oosTrainTexts, try await embedAll(oosTrainTexts, with: embedder, label: "embedded out-of-scope (train)")).map {
                    IntentExample(text: $0, label: "", vector: $1)
                }
                let oosEval = zip(oosEvalTexts, try await embedAll(oosEvalTexts, with: embedder, label: "embedded out-of-scope (validation)")).map {
                    IntentExample(text: $0, label: "", vector: $1)
                }
                let runner = IntentEvaluationRun(
                    examples: examples, rows: rows, outOfScopeTrain: oosTrain, outOfScopeEval: oosEval, embedder: embedder,
                    trainer: IntentTrainer(settings: data.trainerSettings), dataSHA: dataSHA, calibrationSHA: outOfScope?.sha256,
                    baselines: baselines, multiIntentTurns: multiIntentTurns, confusions: confusions)
                if let shipped { return try await runner.judge(shipped) }
                if let holdout { return try await runner.holdOut(holdout, groupSimilar: groupSimilar) }
                return try await runner.crossValidate()
            }
            if json { return print(try jsonText(report)) }
            print(report.rendered())
        }
    }
}
