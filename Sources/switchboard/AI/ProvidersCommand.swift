import ArgumentParser
import Foundation
import SwitchboardAI
import SwitchboardHTTP
import SwitchboardProviders
import SwitchboardQueue

/// `switchboard providers`: a tenant's hosted models — accounts and keys, the models each agent uses, a budget.
struct ProvidersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers",
        abstract: "A tenant's hosted models: provider accounts (keys sealed), each agent's models and fallbacks, the monthly budget.",
        discussion: """
            The embedded models serve every agent with no configuration; hosted models are an upgrade per tenant and the
            embedded ones stay the last link of every chain. Keys are read from an environment variable or stdin, sealed
            with SWITCHBOARD_SECRET_KEY, and never printed.

            Examples:
              switchboard providers set --tenant $T --provider openai --key-env OPENAI_API_KEY
              switchboard providers set --tenant $T --agent reply --model openai:gpt-4o-mini --fallback anthropic:claude-3-haiku-20240307
              switchboard providers list --tenant $T
              switchboard providers test --tenant $T
              switchboard providers budget --tenant $T --monthly 50.00 --policy embedded-only
            """,
        subcommands: [Set.self, List.self, Test.self, BudgetCommand.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add or change a provider account (--provider), an agent's models (--agent), or both.")
        @Option(help: "The tenant's id.") var tenant: String
        @Option(help: "Provider account to set: openai, anthropic, together, ollama, lmstudio, or a name of your own with --api and --base-url.")
        var provider: String?
        @Option(help: "Read the key from this environment variable.") var keyEnv: String?
        @Flag(help: "Read the key from standard input (one line).") var keyStdin = false
        @Option(help: "openai-compatible or anthropic (known providers need none).") var api: String?
        @Option(help: "Base URL, such as https://api.together.xyz or http://127.0.0.1:11434 (known providers need none).") var baseURL: String?
        @Option(help: "Requests per minute for this key, across all workers. Default 60 (anthropic 50).") var rpm: Int?
        @Option(
            help:
                "Tokens per minute for this key, across all workers (prompt estimated at 4 characters a token, plus the answer's maximum). Default none."
        )
        var tpm: Int?
        @Option(help: "The agent whose models to set: intent, reply, summary or extraction.") var agent: String?
        @Option(help: "The agent's model, provider:model.") var model: String?
        @Option(parsing: .upToNextOption, help: "Fallback models, in order (the embedded models always follow).") var fallback: [String] = []

        func validate() throws {
            guard UUID(uuidString: tenant) != nil else { throw ValidationError("--tenant must be a tenant id (a UUID)") }
            if provider == nil && agent == nil { throw ValidationError("give --provider (an account) or --agent with --model (its models)") }
            if keyEnv != nil && keyStdin { throw ValidationError("give the key by --key-env or --key-stdin, not both") }
            if let api, ProviderEndpoint.API(rawValue: api) == nil { throw ValidationError("--api must be openai-compatible or anthropic") }
            if let rpm, !(1...100_000).contains(rpm) { throw ValidationError("--rpm must be from 1 to 100000") }
            if let tpm, !(100...100_000_000).contains(tpm) { throw ValidationError("--tpm must be from 100 to 100000000") }
            if let agent {
                guard AgentKind(rawValue: agent) != nil else { throw ValidationError("--agent must be one of intent, reply, summary, extraction") }
                guard let model, ModelRef(model) != nil else {
                    throw ValidationError("--agent needs --model provider:model, such as openai:gpt-4o-mini")
                }
            }
            if let bad = fallback.first(where: { ModelRef($0) == nil }) { throw ValidationError("--fallback \(bad) is not provider:model") }
        }

        func run() async throws {
            let tenant = UUID(uuidString: tenant)!
            var key: APIKey?
            if let keyEnv {
                guard let value = ProcessInfo.processInfo.environment[keyEnv], !value.isEmpty else {
                    throw ValidationError("the environment variable \(keyEnv) is not set or empty")
                }
                key = APIKey(value)
            } else if keyStdin {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("no key on standard input") }
                key = APIKey(line)
            }
            try await withDatabase { settings, db in
                let store = ProviderSettingsStore(db: db, secretBox: key == nil ? nil : try settings.secretBox())
                do {
                    if let provider {
                        try await store.setAccount(
                            tenant: tenant, provider: provider, api: api.flatMap(ProviderEndpoint.API.init(rawValue:)), baseURL: baseURL, key: key,
                            requestsPerMinute: rpm, tokensPerMinute: tpm)
                        print("\(provider): account set" + (key == nil ? "" : ", key sealed"))
                    }
                    if let agent = agent.flatMap(AgentKind.init(rawValue:)), let model = model.flatMap(ModelRef.init) {
                        let fallbacks = fallback.compactMap(ModelRef.init)
                        try await store.setModels(tenant: tenant, agent: agent, model: model, fallbacks: fallbacks)
                        print("\(agent.rawValue): " + ([model] + fallbacks + [.embedded]).map(\.description).joined(separator: " → "))
                    }
                } catch let error as AIError {
                    printError("error: \(error)")
                    throw ExitCode(1)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A tenant's provider accounts (never their keys) and each agent's models.")
        @Option(help: "The tenant's id.") var tenant: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let tenant = UUID(uuidString: tenant) else { throw ValidationError("--tenant must be a tenant id (a UUID)") }
            let (accounts, models) = try await withDatabase { _, db in
                let store = ProviderSettingsStore(db: db, secretBox: nil)
                return (try await store.accounts(tenant: tenant), try await store.models(tenant: tenant))
            }
            if json {
                struct Listing: Encodable {
                    let accounts: [ProviderSettingsStore.Account]
                    let agents: [ProviderSettingsStore.AgentModels]
                }
                return print(try jsonText(Listing(accounts: accounts, agents: models)))
            }
            print(
                accounts.isEmpty
                    ? "no provider accounts: every agent uses the embedded models"
                    : Table(
                        headers: ["PROVIDER", "API", "BASE URL", "KEY", "REQ/MIN", "TOKENS/MIN"],
                        rows: accounts.map {
                            [
                                $0.provider, $0.api.rawValue, $0.baseURL, $0.hasKey ? "set (sealed)" : "none", "\($0.requestsPerMinute)",
                                $0.tokensPerMinute.map(String.init) ?? "-",
                            ]
                        }
                    ).render())
            print("")
            let byAgent = Dictionary(models.map { ($0.agent, $0) }, uniquingKeysWith: { a, _ in a })
            print(
                Table(
                    headers: ["AGENT", "MODELS (IN ORDER)"],
                    rows: AgentKind.allCases.map { agent in
                        [agent.rawValue, byAgent[agent].map { $0.chain.map(\.description).joined(separator: " → ") } ?? "embedded"]
                    }
                ).render())
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One tiny call to every configured model: latency or the error (recorded in usage like any call).")
        @Option(help: "The tenant's id.") var tenant: String
        @Flag(help: "Print JSON.") var json = false

        struct Row: Encodable {
            let agent: String
            let model: String
            let ok: Bool
            let latencyMs: Int
            let error: String?
        }

        func run() async throws {
            guard let tenant = UUID(uuidString: tenant) else { throw ValidationError("--tenant must be a tenant id (a UUID)") }
            let rows = try await withDatabase { settings, db -> [Row] in
                let store = ProviderSettingsStore(db: db, secretBox: try settings.secretBox())
                let ledger = UsageLedger(db: db)
                let prices = try PriceTable.load(path: settings.pricesPath)
                let models = try await store.models(tenant: tenant)
                if models.isEmpty { return [] }
                let http = HTTPClient(poolSize: 2)
                let client = ProviderClient(http: http, endpoints: try await store.endpoints(tenant: tenant, timeout: .seconds(20)).map(\.endpoint))
                var rows: [Row] = []
                let run = CallRun.adHoc()
                for agentModels in models {
                    for model in [agentModels.defaultModel] + agentModels.fallbackModels {
                        let started = ContinuousClock.now
                        do {
                            let result = try await client.chat(
                                model, messages: ModelProbe.messages, as: ModelProbe.self, maxTokens: 16)
                            try await ledger.record(
                                ModelCall(
                                    key: "\(run.jobID):\(rows.count + 1)", agent: agentModels.agent, model: model, usage: result.usage,
                                    costMicroCents: prices.costMicroCents(model, usage: result.usage), latency: result.latency, outcome: "ok"),
                                tenant: tenant)
                            rows.append(
                                Row(
                                    agent: agentModels.agent.rawValue, model: model.description, ok: true,
                                    latencyMs: Int(result.latency.milliseconds), error: nil))
                        } catch let error as ProviderError {
                            try await ledger.record(
                                ModelCall(
                                    key: "\(run.jobID):\(rows.count + 1)", agent: agentModels.agent, model: model,
                                    latency: ContinuousClock.now - started, outcome: "\(error.kind)"), tenant: tenant)
                            rows.append(
                                Row(
                                    agent: agentModels.agent.rawValue, model: model.description, ok: false,
                                    latencyMs: Int((ContinuousClock.now - started).milliseconds), error: error.description))
                        }
                    }
                }
                try await http.shutdown()
                return rows
            }
            try printList(
                rows, json: json, empty: "no hosted models configured: every agent uses the embedded models",
                headers: ["AGENT", "MODEL", "RESULT", "LATENCY"]
            ) {
                [$0.agent, $0.model, $0.ok ? "ok" : ($0.error ?? "failed"), "\($0.latencyMs) ms"]
            }
            if rows.contains(where: { !$0.ok }) { throw ExitCode(1) }
        }
    }

    struct BudgetCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "budget", abstract: "Show or set a tenant's monthly budget for hosted models and what happens past it.")
        @Option(help: "The tenant's id.") var tenant: String
        @Option(help: "Monthly limit in the price table's currency, such as 50.00.") var monthly: Double?
        @Option(help: "Past the limit: embedded-only (default: answers continue on the embedded models) or block.") var policy: String?

        func validate() throws {
            guard UUID(uuidString: tenant) != nil else { throw ValidationError("--tenant must be a tenant id (a UUID)") }
            if let monthly, !(monthly >= 0 && monthly < 10_000_000) { throw ValidationError("--monthly must be 0 or more") }
            if let policy, Budget.Policy(rawValue: policy) == nil { throw ValidationError("--policy must be embedded-only or block") }
            if policy != nil && monthly == nil { throw ValidationError("--policy goes with --monthly") }
        }

        func run() async throws {
            let tenant = UUID(uuidString: tenant)!
            try await withDatabase { _, db in
                let ledger = UsageLedger(db: db)
                if let monthly {
                    try await ledger.setBudget(
                        Budget(monthlyCents: Int64((monthly * 100).rounded()), policy: policy.flatMap(Budget.Policy.init) ?? .embeddedOnly),
                        tenant: tenant)
                }
                let standing = try await ledger.standing(tenant: tenant)
                guard let budget = standing.budget else { return print("no budget; spent this month: \(Money.text(standing.spentCents))") }
                print(
                    "budget \(Money.text(budget.monthlyCents)) a month, past it: \(budget.policy.rawValue); spent this month: \(Money.text(standing.spentCents))"
                        + (budget.monthlyCents > 0
                            ? String(format: " (%.0f %%)", Double(standing.spentCents) * 100 / Double(budget.monthlyCents)) : ""))
            }
        }
    }
}

enum Money {
    static func text(_ cents: Int64) -> String { String(format: "%lld.%02lld", cents / 100, abs(cents % 100)) }
}
