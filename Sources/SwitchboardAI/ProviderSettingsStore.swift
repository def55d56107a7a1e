public import Foundation
public import SwitchboardPostgres
public import SwitchboardProviders
public import SwitchboardStore

/// A tenant's provider accounts (keys sealed with ``SecretBox``, bound to tenant and provider) and the models each
/// agent uses. Nothing here ever prints or logs a key.
public struct ProviderSettingsStore: Sendable {
    public struct Account: Sendable, Codable, Hashable {
        public var provider: String
        public var api: ProviderEndpoint.API
        public var baseURL: String
        public var hasKey: Bool
        public var requestsPerMinute: Int
        public var tokensPerMinute: Int?
    }
    public struct AgentModels: Sendable, Codable, Hashable {
        public var agent: AgentKind
        public var defaultModel: ModelRef
        public var fallbackModels: [ModelRef]
        /// The whole chain, the embedded models last.
        public var chain: [ModelRef] { [defaultModel] + fallbackModels + [.embedded] }
    }

    public let db: PostgresClient
    public let secretBox: SecretBox?

    public init(db: PostgresClient, secretBox: SecretBox?) { (self.db, self.secretBox) = (db, secretBox) }

    /// Default requests per minute: the platform's caps (60 OpenAI, 50 Anthropic), 60 for others.
    public static func defaultRequestsPerMinute(_ provider: String) -> Int { provider == "anthropic" ? 50 : 60 }

    static func context(_ tenant: UUID, _ provider: String) -> String { "provider-key:\(tenant.uuidString.lowercased()):\(provider)" }

    /// Adds or changes a provider account; `key` nil keeps the stored one.
    public func setAccount(
        tenant: UUID, provider: String, api: ProviderEndpoint.API?, baseURL: String?, key: APIKey?, requestsPerMinute: Int?,
        tokensPerMinute: Int? = nil
    ) async throws {
        guard provider.range(of: "^[a-z0-9-]{1,40}$", options: .regularExpression) != nil else {
            throw AIError.configuration("a provider name is lower-case letters, digits and dashes (openai, anthropic, together)")
        }
        let known = ProviderEndpoint.known(provider)
        guard let api = api ?? known?.api, let baseURL = baseURL ?? known?.baseURL else {
            throw AIError.configuration("\(provider) is not a known provider: give --api openai-compatible|anthropic and --base-url")
        }
        guard baseURL.hasPrefix("https://") || baseURL.hasPrefix("http://") else {
            throw AIError.configuration("--base-url must start with https:// (or http:// for a local server)")
        }
        var sealed: [UInt8]?
        if let key {
            guard let secretBox else { throw AIError.configuration("SWITCHBOARD_SECRET_KEY is needed to seal provider keys") }
            sealed = try secretBox.seal(Array(key.reveal().utf8), context: Self.context(tenant, provider))
        }
        let rpm = requestsPerMinute ?? Self.defaultRequestsPerMinute(provider)
        let sealedKey = sealed
        try await db.withTenant(tenant) { conn in
            try conn.execute(
                """
                INSERT INTO provider_accounts (tenant_id, provider, api, base_url, sealed_key, requests_per_minute, tokens_per_minute)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (tenant_id, provider) DO UPDATE SET api = excluded.api, base_url = excluded.base_url,
                    sealed_key = coalesce(excluded.sealed_key, provider_accounts.sealed_key),
                    requests_per_minute = excluded.requests_per_minute,
                    tokens_per_minute = coalesce(excluded.tokens_per_minute, provider_accounts.tokens_per_minute), updated_at = now()
                """,
                [
                    .uuid(tenant), .text(provider), .text(api.rawValue), .text(baseURL), sealedKey.map(PostgresValue.bytea) ?? .null,
                    .int(Int64(rpm)),
                    tokensPerMinute.map { .int(Int64($0)) } ?? .null,
                ])
        }
    }

    /// Sets the models an agent uses. Every hosted model's provider must have an account.
    public func setModels(tenant: UUID, agent: AgentKind, model: ModelRef, fallbacks: [ModelRef]) async throws {
        let hosted = ([model] + fallbacks).filter { !$0.isEmbedded }
        guard !model.isEmbedded else { throw AIError.configuration("--model names a hosted model; the embedded models are always the last link") }
        let accounts = Set(try await self.accounts(tenant: tenant).map(\.provider))
        if let missing = hosted.first(where: { !accounts.contains($0.provider) }) {
            throw AIError.configuration(
                "no \(missing.provider) account for this tenant; add it first: switchboard providers set --tenant ID --provider \(missing.provider) --key-env VAR"
            )
        }
        try await db.withTenant(tenant) { conn in
            try conn.execute(
                """
                INSERT INTO provider_settings (tenant_id, agent, default_model, fallback_models) VALUES ($1, $2, $3, $4)
                ON CONFLICT (tenant_id, agent) DO UPDATE SET default_model = excluded.default_model,
                    fallback_models = excluded.fallback_models, updated_at = now()
                """,
                [.uuid(tenant), .text(agent.rawValue), .text(model.description), .textArray(fallbacks.filter { !$0.isEmbedded }.map(\.description))])
        }
    }

    public func accounts(tenant: UUID) async throws -> [Account] {
        try await db.withTenant(tenant) { conn in
            try conn.query(
                """
                SELECT provider, api, base_url, sealed_key IS NOT NULL AS has_key, requests_per_minute, tokens_per_minute
                FROM provider_accounts ORDER BY provider
                """
            )
            .map { row in
                Account(
                    provider: try row.decode("provider"), api: ProviderEndpoint.API(rawValue: try row.decode("api")) ?? .openAICompatible,
                    baseURL: try row.decode("base_url"), hasKey: try row.decode("has_key"),
                    requestsPerMinute: Int(try row.decode("requests_per_minute", as: Int64.self)),
                    tokensPerMinute: (try row.decodeIfPresent("tokens_per_minute", as: Int64.self)).map(Int.init))
            }
        }
    }

    public func models(tenant: UUID) async throws -> [AgentModels] {
        try await db.withTenant(tenant) { conn in
            try conn.query("SELECT agent, default_model, fallback_models FROM provider_settings ORDER BY agent").compactMap { row in
                guard let agent = AgentKind(rawValue: try row.decode("agent")), let model = ModelRef(try row.decode("default_model")) else {
                    return nil
                }
                return AgentModels(
                    agent: agent, defaultModel: model,
                    fallbackModels: (try row.decode("fallback_models", as: [String].self)).compactMap(ModelRef.init))
            }
        }
    }

    /// The endpoints of a tenant's accounts with their keys opened, and their rate limits.
    public func endpoints(tenant: UUID, timeout: Duration = .seconds(30)) async throws -> [(
        endpoint: ProviderEndpoint, requestsPerMinute: Int, tokensPerMinute: Int?
    )] {
        let rows = try await db.withTenant(tenant) { conn in
            try conn.query("SELECT provider, api, base_url, sealed_key, requests_per_minute, tokens_per_minute FROM provider_accounts").map { row in
                (
                    provider: try row.decode("provider", as: String.self), api: try row.decode("api", as: String.self),
                    baseURL: try row.decode("base_url", as: String.self),
                    sealed: try row.decodeIfPresent("sealed_key", as: PostgresBytes.self)?.bytes,
                    rpm: Int(try row.decode("requests_per_minute", as: Int64.self)),
                    tpm: (try row.decodeIfPresent("tokens_per_minute", as: Int64.self)).map(Int.init)
                )
            }
        }
        return try rows.map { row in
            var key: APIKey?
            if let sealed = row.sealed {
                guard let secretBox else { throw AIError.configuration("SWITCHBOARD_SECRET_KEY is needed to open provider keys") }
                key = APIKey(String(decoding: try secretBox.open(sealed, context: Self.context(tenant, row.provider)), as: UTF8.self))
            }
            return (
                ProviderEndpoint(
                    name: row.provider, api: ProviderEndpoint.API(rawValue: row.api) ?? .openAICompatible, baseURL: row.baseURL, apiKey: key,
                    timeout: timeout), row.rpm, row.tpm
            )
        }
    }
}
