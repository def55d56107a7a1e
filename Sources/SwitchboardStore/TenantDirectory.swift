public import FoundationEssentials
public import SwitchboardPostgres

/// A business that uses Switchboard (a distributor, a shop).
public struct Tenant: Sendable, Hashable, Encodable {
    public let id: UUID
    public let name: String
    public let createdAt: Date

    enum CodingKeys: String, CodingKey { case id, name, createdAt }

    /// UUIDs in lower case, as PostgreSQL and the CLI's tables print them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// A problem with a tenant or channel request, phrased for the operator.
public struct DirectoryError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Creates and finds tenants. Operator work: runs with system access (see ``PostgresClient/withSystemAccess(_:)``).
public struct TenantDirectory: Sendable {
    let db: PostgresClient

    public init(db: PostgresClient) { self.db = db }

    public func createTenant(name: String) async throws -> Tenant {
        let name = name.trimmingWhitespace()
        guard (1...200).contains(name.count) else { throw DirectoryError("a tenant name must have 1 to 200 characters") }
        return try await db.withSystemAccess { conn in
            try Self.tenant(try conn.query("INSERT INTO tenants (name) VALUES ($1) RETURNING id, name, created_at", [.text(name)])[0])
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await db.withSystemAccess { conn in
            try conn.query("SELECT id, name, created_at FROM tenants ORDER BY created_at, id").map(Self.tenant)
        }
    }

    public func tenant(named name: String) async throws -> Tenant? {
        try await db.withSystemAccess { conn in
            try conn.query("SELECT id, name, created_at FROM tenants WHERE name = $1 ORDER BY created_at LIMIT 1", [.text(name)]).first.map(
                Self.tenant)
        }
    }

    static func tenant(_ row: PostgresRow) throws -> Tenant {
        Tenant(id: try row.decode("id"), name: try row.decode("name"), createdAt: try row.decode("created_at"))
    }

}
