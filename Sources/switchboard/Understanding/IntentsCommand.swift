import ArgumentParser
import Foundation
import Jobs
import SwitchboardQueue
import SwitchboardUnderstanding

/// `switchboard intents`: a tenant's own intent examples, model and out-of-scope threshold.
struct IntentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intents",
        abstract: "A tenant's intent examples, retraining and out-of-scope threshold.",
        discussion: """
            Every tenant starts on the shipped model (Models/intents). A tenant's examples add intents or phrasings; `train`
            enqueues `train-intents`, which retrains on the base examples plus the tenant's and stores the model for that
            tenant only. `classify --tenant` uses it.

            Examples:
              switchboard intents import --tenant $TENANT our-examples.csv
              switchboard intents train --tenant $TENANT
              switchboard intents threshold --tenant $TENANT 0.7
              switchboard intents status --tenant $TENANT --json
            """,
        subcommands: [Import.self, Train.self, Threshold.self, Status.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add examples from a CSV (text,intent); all or nothing; then enqueue train-intents.")
        @OptionGroup var tenant: TenantOption
        @Argument(help: "CSV with a text (or instruction/question) column and an intent column.") var file: String
        @Flag(help: "Do not enqueue train-intents.") var noTrain = false
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let rows = try IntentDataOptions.read(file).rows
            let (added, unchanged) = try await withDatabase { _, db in
                do { return try await IntentModelStore(db: db).importExamples(rows, tenant: tenant.id) } catch let error as IntentModelError {
                    printError("error: \(file): \(error); nothing was imported")
                    throw ExitCode(1)
                }
            }
            var job: String?
            if added > 0 && !noTrain { job = try await enqueueTraining(tenant: tenant.id) }
            if json {
                struct Output: Encodable {
                    let added, unchanged: Int
                    let job: String?
                }
                return print(try jsonText(Output(added: added, unchanged: unchanged, job: job)))
            }
            print("\(added) examples added, \(unchanged) already there" + (job.map { "; train-intents enqueued (\($0))" } ?? ""))
        }
    }

    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enqueue train-intents for the tenant (a worker on the knowledge queue runs it).")
        @OptionGroup var tenant: TenantOption

        func run() async throws {
            print(try await enqueueTraining(tenant: tenant.id))
        }
    }

    struct Threshold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the tenant's out-of-scope threshold (0–1), or --clear it.")
        @OptionGroup var tenant: TenantOption
        @Argument(help: "Turns whose best confidence is below this go to a person.") var value: Float?
        @Flag(help: "Use the model's own threshold again.") var clear = false

        func validate() throws {
            guard (value == nil) == clear else { throw ValidationError("give a threshold or --clear") }
            if let value, !(0...1).contains(value) { throw ValidationError("the threshold is a confidence between 0 and 1") }
        }

        func run() async throws {
            try await withDatabase { _, db in try await IntentModelStore(db: db).setThreshold(value, tenant: tenant.id) }
            print(value.map { "out-of-scope threshold set to \($0)" } ?? "out-of-scope threshold cleared: the model's own applies")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The tenant's examples, model and threshold.")
        @OptionGroup var tenant: TenantOption
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let base = try Settings.fromEnvironment().intentModel()
            let stored = try await withDatabase { _, db in try await IntentModelStore(db: db).load(tenant: tenant.id) }
            struct Output: Encodable {
                let examples: Int
                let model: String
                let labels: Int
                let trainedAt: String?
                let crossValidationAccuracy: Double
                let threshold: Float
                let thresholdSource: String
            }
            let model = stored.model ?? base
            let output = Output(
                examples: stored.examples, model: stored.model == nil ? "shipped" : "tenant", labels: model.labels.count,
                trainedAt: stored.trainedAt, crossValidationAccuracy: model.manifest.crossValidationAccuracy,
                threshold: stored.threshold ?? model.outOfScopeThreshold, thresholdSource: stored.threshold == nil ? "model" : "tenant")
            if json { return print(try jsonText(output)) }
            print(
                "\(output.examples) tenant examples; \(output.model) model (\(output.labels) intents, cross-validated accuracy "
                    + "\(output.crossValidationAccuracy)\(output.trainedAt.map { ", trained \($0)" } ?? "")); out-of-scope threshold "
                    + "\(output.threshold) (\(output.thresholdSource))")
        }
    }
}

/// Enqueues `train-intents` for `tenant` (unique while queued). Returns its id.
func enqueueTraining(tenant: UUID) async throws -> String {
    try await withOpsRedis { redis in
        let job = TrainIntents(tenant: tenant)
        return try await JobQueue(redis: redis).enqueue(job, options: job.enqueueOptions)
    }
}
