public import FoundationEssentials
public import SwitchboardPostgres

/// The messaging providers a channel can belong to.
public enum ChannelKind: String, Sendable, Codable, CaseIterable {
    case whatsapp, twilio, email

    /// What ``Channel/address`` holds for this kind.
    public var addressMeaning: String {
        switch self {
        case .whatsapp: return "WhatsApp phone_number_id"
        case .twilio: return "Twilio phone number (E.164)"
        case .email: return "inbound email address"
        }
    }
}

/// The secrets a channel needs to verify its provider's webhooks. Stored sealed (``SecretBox``).
public struct ChannelSecrets: Sendable, Codable, Hashable {
    /// WhatsApp: the Meta app secret that signs `X-Hub-Signature-256`.
    public var appSecret: String?
    /// WhatsApp: the token Meta echoes in the verification handshake.
    public var verifyToken: String?
    /// Twilio: the account auth token that signs `X-Twilio-Signature`.
    public var authToken: String?
    /// Email: the token or basic-auth password the inbound email provider sends.
    public var inboundToken: String?
    /// WhatsApp: the Cloud API access token replies are sent with.
    public var accessToken: String?
    /// Twilio: the account SID replies are sent under (with ``authToken``).
    public var accountSID: String?

    public init(
        appSecret: String? = nil, verifyToken: String? = nil, authToken: String? = nil, inboundToken: String? = nil, accessToken: String? = nil,
        accountSID: String? = nil
    ) {
        self.appSecret = appSecret
        self.verifyToken = verifyToken
        self.authToken = authToken
        self.inboundToken = inboundToken
        self.accessToken = accessToken
        self.accountSID = accountSID
    }
}

/// A tenant's number or address at one provider: where an inbound webhook is routed from.
public struct Channel: Sendable, Hashable, Encodable {
    public let id: UUID
    public let tenantID: UUID
    public let kind: ChannelKind
    /// The routing key: WhatsApp `phone_number_id`, Twilio number, or inbound email address (lower-cased).
    public let address: String
    public let name: String?
    public let createdAt: Date

    enum CodingKeys: String, CodingKey { case id, tenantID, kind, address, name, createdAt }

    /// UUIDs in lower case, as PostgreSQL and the CLI's tables print them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(tenantID.uuidString.lowercased(), forKey: .tenantID)
        try c.encode(kind, forKey: .kind)
        try c.encode(address, forKey: .address)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// Registers channels and routes inbound webhooks to them. Secrets are sealed on the way in and opened on request only.
public struct ChannelDirectory: Sendable {
    let db: PostgresClient
    let secretBox: SecretBox?

    /// - Parameter secretBox: needed to add channels and to route (both touch secrets); listing works without it.
    public init(db: PostgresClient, secretBox: SecretBox?) {
        self.db = db
        self.secretBox = secretBox
    }

    private func requireBox() throws -> SecretBox {
        guard let secretBox else { throw DirectoryError("SWITCHBOARD_SECRET_KEY is needed to seal or open channel secrets") }
        return secretBox
    }

    /// Registers a channel. Its address must be unused by every tenant (it routes inbound webhooks).
    public func addChannel(tenant: UUID, kind: ChannelKind, address: String, name: String? = nil, secrets: ChannelSecrets) async throws -> Channel {
        let address = try Self.normalise(address, kind: kind)
        try Self.requireSecrets(secrets, for: kind)
        let id = UUID()
        let sealed = try requireBox().seal(Array(try JSONEncoder().encode(secrets)), context: id.uuidString)
        do {
            return try await db.withSystemAccess { conn in
                guard !(try conn.query("SELECT 1 FROM tenants WHERE id = $1", [.uuid(tenant)]).isEmpty) else {
                    throw DirectoryError("no tenant has the id \(tenant.uuidString.lowercased()); list them with: switchboard tenants list")
                }
                let rows = try conn.query(
                    """
                    INSERT INTO channels (id, tenant_id, kind, address, name, secrets) VALUES ($1, $2, $3, $4, $5, $6)
                    RETURNING id, tenant_id, kind, address, name, created_at
                    """,
                    [.uuid(id), .uuid(tenant), .text(kind.rawValue), .text(address), name.map(PostgresValue.text) ?? .null, .bytea(sealed)])
                return try Self.channel(rows[0])
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            throw DirectoryError("another channel already has the \(kind.addressMeaning) \(address); each address routes to exactly one tenant")
        }
    }

    /// All channels, or one tenant's.
    public func channels(tenant: UUID? = nil) async throws -> [Channel] {
        try await db.withSystemAccess { conn in
            let rows = try conn.query(
                "SELECT id, tenant_id, kind, address, name, created_at FROM channels WHERE $1::uuid IS NULL OR tenant_id = $1 ORDER BY created_at, id",
                [tenant.map(PostgresValue.uuid) ?? .null])
            return try rows.map(Self.channel)
        }
    }

    /// The channel an inbound webhook for (`kind`, `address`) belongs to, with its opened secrets; nil when no tenant owns it.
    public func route(kind: ChannelKind, address: String) async throws -> (Channel, ChannelSecrets)? {
        let address = (try? Self.normalise(address, kind: kind)) ?? address
        let found: (Channel, [UInt8])? = try await db.withSystemAccess { conn in
            let rows = try conn.query(
                "SELECT id, tenant_id, kind, address, name, created_at, secrets FROM channels WHERE kind = $1 AND address = $2",
                [.text(kind.rawValue), .text(address)])
            guard let row = rows.first else { return nil }
            return (try Self.channel(row), try row.decode("secrets", as: PostgresBytes.self).bytes)
        }
        guard let (channel, sealed) = found else { return nil }
        let plain = try requireBox().open(sealed, context: channel.id.uuidString)
        return (channel, try JSONDecoder().decode(ChannelSecrets.self, from: Data(plain)))
    }

    /// One of a tenant's channels with its opened secrets (to send through it); nil when the tenant has no such channel.
    public func channel(id: UUID, tenant: UUID) async throws -> (Channel, ChannelSecrets)? {
        let found: (Channel, [UInt8])? = try await db.withTenant(tenant) { conn in
            guard
                let row = try conn.query("SELECT id, tenant_id, kind, address, name, created_at, secrets FROM channels WHERE id = $1", [.uuid(id)])
                    .first
            else { return nil }
            return (try Self.channel(row), try row.decode("secrets", as: PostgresBytes.self).bytes)
        }
        guard let (channel, sealed) = found else { return nil }
        let plain = try requireBox().open(sealed, context: channel.id.uuidString)
        return (channel, try JSONDecoder().decode(ChannelSecrets.self, from: Data(plain)))
    }

    /// Every channel of one kind with its opened secrets (the WhatsApp handshake checks a token against all of them).
    /// A channel whose secrets cannot be opened (sealed under another key) is left out rather than failing the rest.
    public func routes(kind: ChannelKind) async throws -> [(Channel, ChannelSecrets)] {
        let found: [(Channel, [UInt8])] = try await db.withSystemAccess { conn in
            let rows = try conn.query(
                "SELECT id, tenant_id, kind, address, name, created_at, secrets FROM channels WHERE kind = $1 ORDER BY created_at, id",
                [.text(kind.rawValue)])
            return try rows.map { (try Self.channel($0), try $0.decode("secrets", as: PostgresBytes.self).bytes) }
        }
        let box = try requireBox()
        return found.compactMap { channel, sealed in
            guard let plain = try? box.open(sealed, context: channel.id.uuidString),
                let secrets = try? JSONDecoder().decode(ChannelSecrets.self, from: Data(plain))
            else { return nil }
            return (channel, secrets)
        }
    }

    // MARK: - Rules and decoding

    static func normalise(_ raw: String, kind: ChannelKind) throws -> String {
        let address = raw.trimmingWhitespace()
        switch kind {
        case .whatsapp:
            guard !address.isEmpty, address.allSatisfy(\.isASCII), address.allSatisfy(\.isNumber) else {
                throw DirectoryError("a WhatsApp phone_number_id is the digits Meta shows in the app dashboard, such as 106540352242922")
            }
            return address
        case .twilio:
            guard address.first == "+", address.count >= 8, address.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw DirectoryError("a Twilio number must be in E.164 form, such as +14155550100")
            }
            return address
        case .email:
            let parts = address.split(separator: "@")
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !address.contains(where: \.isWhitespace) else {
                throw DirectoryError("an inbound email address looks like support@shop.example")
            }
            return address.lowercased()
        }
    }

    static func requireSecrets(_ s: ChannelSecrets, for kind: ChannelKind) throws {
        func present(_ v: String?) -> Bool { !(v ?? "").isEmpty }
        switch kind {
        case .whatsapp where !present(s.appSecret) || !present(s.verifyToken):
            throw DirectoryError("a WhatsApp channel needs --app-secret (from the Meta app) and --verify-token (your choice, given to Meta)")
        case .twilio where !present(s.authToken):
            throw DirectoryError("a Twilio channel needs --auth-token (the account's auth token)")
        case .email where !present(s.inboundToken):
            throw DirectoryError("an email channel needs --inbound-token (the secret the inbound provider sends)")
        default: return
        }
    }

    static func channel(_ row: PostgresRow) throws -> Channel {
        guard let kind = ChannelKind(rawValue: try row.decode("kind")) else {
            throw PostgresError(.decoding, "channels.kind holds an unknown kind")
        }
        return Channel(
            id: try row.decode("id"), tenantID: try row.decode("tenant_id"), kind: kind, address: try row.decode("address"),
            name: try row.decodeIfPresent("name"), createdAt: try row.decode("created_at"))
    }
}
