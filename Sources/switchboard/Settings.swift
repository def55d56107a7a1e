import ArgumentParser
import FoundationEssentials
import Glibc
import Logging
import Synchronization
import SwitchboardEmbedding
import SwitchboardKnowledge
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import SwitchboardUnderstanding
import SwitchboardWebhooks

/// Configuration read from the environment, once, at the executable's edge. Library modules never read it.
struct Settings: Sendable {
    /// `REDIS_URL`, default `redis://127.0.0.1:6379/0`.
    var redisURL: String
    /// `DATABASE_URL`, default `postgresql://switchboard@127.0.0.1:5432/switchboard`.
    var databaseURL: String
    /// `HOST` the web process binds, default `127.0.0.1` (set `0.0.0.0` to accept outside connections).
    var host: String
    /// `PORT` the web process listens on, default 8080.
    var port: Int
    /// `LOG_LEVEL`: trace, debug, info (default), notice, warning, error, critical.
    var logLevel: Logger.Level
    /// `LOG_FORMAT`: `text` (default) or `json` (one object per line).
    var logJSON: Bool
    /// `SWITCHBOARD_SECRET_KEY`: base64 of 32 bytes; seals channel secrets. Needed by commands that touch them.
    var secretKey: String?
    /// `MIGRATIONS_DIR`, default `Migrations` (relative to the working directory).
    var migrationsDirectory: String
    /// `SCHEDULES_DIR`, default `Schedules` (relative to the working directory).
    var schedulesDirectory: String
    /// `PUBLIC_URL`: the base URL providers call (`https://hooks.example.com`); Twilio signs the full URL it called.
    var publicURL: String?
    /// `INGEST_QUEUE`: the queue webhook jobs go to. Default `ingest`.
    var ingestQueue: String
    /// `WEBHOOK_MAX_BYTES`: bodies larger than this get 413. Default 1048576 (1 MB).
    var webhookMaxBytes: Int
    /// The web receiver's connection guard: `WEB_IDLE_TIMEOUT` (default 30s), `WEB_HEAD_TIMEOUT` (10s),
    /// `WEB_BODY_TIMEOUT` (30s), `WEB_MAX_CONNECTIONS` (half the open-file limit, at most 10000).
    var connectionLimits = ConnectionLimits()
    /// `SWITCHBOARD_MODEL_DIR`: the embedded sentence model's folder (model.safetensors, vocab.txt), as
    /// scripts/fetch-model fills it. Default `.switchboard-dev/models/all-MiniLM-L6-v2`.
    var modelDirectory: String
    /// `EMBEDDING_THREADS`: threads per process that run the embedded model. Default 1.
    var embeddingThreads: Int
    /// `SWITCHBOARD_INTENT_MODEL`: the trained intent model file. Default `Models/intents/intents.sbm` (committed).
    var intentModelPath: String
    /// `SWITCHBOARD_INTENT_DATA` and `SWITCHBOARD_INTENT_OOS`: the base examples and out-of-scope queries a tenant's
    /// intent model is retrained on (`train-intents`). Default the committed `Models/intents/examples.csv` and
    /// `Models/intents/out-of-scope.json`; `SWITCHBOARD_INTENT_OOS=` (empty) means none.
    var intentTrainingData: String
    var intentOutOfScopeData: String?
    /// `SWITCHBOARD_QUESTION_POOL`: typical customer questions (unlabelled sentence vectors) help-center search borrows
    /// from. Default `Models/retrieval/question-pool.sbq` (committed); `SWITCHBOARD_QUESTION_POOL=` (empty) means none.
    var questionPoolPath: String? = "Models/retrieval/question-pool.sbq"
    /// `SWITCHBOARD_PRICES`: the model price table (dollars per million tokens, versioned). Default `Models/prices.json`.
    var pricesPath: String = "Models/prices.json"

    static func fromEnvironment() throws -> Settings {
        let env = ProcessInfo.processInfo.environment
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        let port = value("PORT") ?? "8080"
        guard let portNumber = Int(port), (1...65535).contains(portNumber) else {
            throw ValidationError("PORT must be a number from 1 to 65535 (got \"\(port)\")")
        }
        let level = value("LOG_LEVEL") ?? "info"
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw ValidationError("LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(level)\")")
        }
        let maxBytes = value("WEBHOOK_MAX_BYTES") ?? "1048576"
        guard let webhookMaxBytes = Int(maxBytes), webhookMaxBytes >= 1024 else {
            throw ValidationError("WEBHOOK_MAX_BYTES must be a number of bytes, at least 1024 (got \"\(maxBytes)\")")
        }
        let threads = value("EMBEDDING_THREADS") ?? "1"
        guard let embeddingThreads = Int(threads), (1...64).contains(embeddingThreads) else {
            throw ValidationError("EMBEDDING_THREADS must be a number from 1 to 64 (got \"\(threads)\")")
        }
        var limits = ConnectionLimits()
        for (name, path) in [
            ("WEB_IDLE_TIMEOUT", \ConnectionLimits.idleTimeout), ("WEB_HEAD_TIMEOUT", \.headTimeout), ("WEB_BODY_TIMEOUT", \.bodyTimeout),
        ] {
            guard let text = value(name) else { continue }
            guard let duration = try? DurationText.parse(text), duration > .zero else {
                throw ValidationError("\(name) must be a positive duration such as 500ms, 30s or 2m (got \"\(text)\")")
            }
            limits[keyPath: path] = duration
        }
        if let text = value("WEB_MAX_CONNECTIONS") {
            guard let n = Int(text), n >= 1 else { throw ValidationError("WEB_MAX_CONNECTIONS must be a number, at least 1 (got \"\(text)\")") }
            limits.maxConnections = n
        }
        let format = (value("LOG_FORMAT") ?? "text").lowercased()
        guard format == "text" || format == "json" else { throw ValidationError("LOG_FORMAT must be text or json (got \"\(format)\")") }
        return Settings(
            redisURL: value("REDIS_URL") ?? "redis://127.0.0.1:6379/0",
            databaseURL: value("DATABASE_URL") ?? "postgresql://switchboard@127.0.0.1:5432/switchboard",
            host: value("HOST") ?? "127.0.0.1",
            port: portNumber,
            logLevel: logLevel,
            logJSON: format == "json",
            secretKey: value("SWITCHBOARD_SECRET_KEY"),
            migrationsDirectory: value("MIGRATIONS_DIR") ?? "Migrations",
            schedulesDirectory: value("SCHEDULES_DIR") ?? "Schedules",
            publicURL: value("PUBLIC_URL"),
            ingestQueue: value("INGEST_QUEUE") ?? "ingest",
            webhookMaxBytes: webhookMaxBytes,
            connectionLimits: limits,
            modelDirectory: value("SWITCHBOARD_MODEL_DIR") ?? ".switchboard-dev/models/all-MiniLM-L6-v2",
            embeddingThreads: embeddingThreads,
            intentModelPath: value("SWITCHBOARD_INTENT_MODEL") ?? "Models/intents/intents.sbm",
            intentTrainingData: value("SWITCHBOARD_INTENT_DATA") ?? "Models/intents/examples.csv",
            // Set but empty: no out-of-scope queries (the threshold is the in-scope quantile alone).
            intentOutOfScopeData: env["SWITCHBOARD_INTENT_OOS"].map { $0.isEmpty ? nil : $0 } ?? "Models/intents/out-of-scope.json",
            questionPoolPath: env["SWITCHBOARD_QUESTION_POOL"].map { $0.isEmpty ? nil : $0 } ?? "Models/retrieval/question-pool.sbq",
            pricesPath: value("SWITCHBOARD_PRICES") ?? "Models/prices.json")
    }

    /// The embedded model on threads of its own; a missing or damaged model folder is a clear error (exit 1).
    /// The intent model at `intentModelPath`; a missing or unreadable file is one clear line and exit 1.
    func intentModel() throws -> IntentModel {
        do { return try IntentModelFile.read(path: intentModelPath) } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The question pool, or nil (searches then use each question alone) when none is set or it cannot be read: that
    /// is said once on `logger`, since search still works without it.
    func questionPool(logger: Logger) -> QuestionPool? {
        guard let questionPoolPath else { return nil }
        do { return try QuestionPool.read(path: questionPoolPath) } catch {
            logger.warning("help-center search runs without its question pool", metadata: ["error": "\(error)"])
            return nil
        }
    }

    func embeddingService() throws -> EmbeddingService {
        do {
            return try EmbeddingService(modelDirectory: modelDirectory, configuration: .init(threads: embeddingThreads))
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    func redisConfiguration() throws -> RedisConfiguration {
        do { return try RedisConfiguration(url: redisURL) } catch { throw ValidationError(error.message) }
    }

    func secretBox() throws -> SecretBox {
        guard let secretKey else {
            throw ValidationError("SWITCHBOARD_SECRET_KEY is not set; it seals channel secrets. Make one with: switchboard secret-key")
        }
        do { return try SecretBox(base64Key: secretKey) } catch { throw ValidationError("\(error)") }
    }

    /// Sets up swift-log: lines to stderr at `LOG_LEVEL`, as text or JSON (`LOG_FORMAT`). swift-log allows one
    /// bootstrap per process, so later calls (a command that opens Redis twice) only return a logger.
    func bootstrapLogging() -> Logger {
        let first = loggingBootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return Logger(label: "switchboard") }
        let level = logLevel
        let json = logJSON
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return RedactingLogHandler(wrapping: handler)
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return RedactingLogHandler(wrapping: handler)
        }
        return Logger(label: "switchboard")
    }
}

private let loggingBootstrapped = Mutex(false)

/// Prints a message to standard error (for operator-facing failures outside of logging).
func printError(_ message: String, terminator: String = "\n") {
    var line = Array((message + terminator).utf8)
    _ = line.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

/// Whether standard output is a terminal (tables and colours) or a pipe (scripts).
var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
