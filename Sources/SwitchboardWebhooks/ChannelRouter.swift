public import FoundationEssentials
public import SwitchboardStore
import Synchronization

/// Finds the tenant channel a webhook belongs to, with its opened secrets, from a short-lived cache in front of
/// PostgreSQL, so a burst of webhooks for one number costs one query per 30 s rather than one per request.
/// Unknown addresses are cached too (a flood for a number nobody owns does not reach the database).
public final class ChannelRouter: Sendable {
    public struct Route: Sendable, Hashable {
        public let tenant: UUID
        public let channel: UUID
        public let secrets: ChannelSecrets
    }

    private struct Key: Hashable {
        let kind: ChannelKind
        let address: String
    }
    private struct Entry {
        let route: Route?
        let expires: ContinuousClock.Instant
    }

    let directory: ChannelDirectory
    let ttl: Duration
    private let cache = Mutex<[Key: Entry]>([:])
    private let tokens = Mutex<(values: [String], expires: ContinuousClock.Instant)?>(nil)

    public init(directory: ChannelDirectory, ttl: Duration = .seconds(30)) {
        self.directory = directory
        self.ttl = ttl
    }

    /// The channel of `kind` at `address`, or nil when no tenant owns it.
    public func route(_ kind: ChannelKind, _ address: String) async throws -> Route? {
        let key = Key(kind: kind, address: address)
        let now = ContinuousClock.now
        if let hit = cache.withLock({ $0[key] }), hit.expires > now { return hit.route }
        let found = try await directory.route(kind: kind, address: address).map { Route(tenant: $0.0.tenantID, channel: $0.0.id, secrets: $0.1) }
        cache.withLock { c in
            if c.count > 10_000 { c.removeAll() }  // bounded: a flood of random addresses cannot grow it without limit
            c[key] = Entry(route: found, expires: now + ttl)
        }
        return found
    }

    /// Every WhatsApp channel's verify token (Meta's GET handshake names no number).
    public func whatsappVerifyTokens() async throws -> [String] {
        let now = ContinuousClock.now
        if let cached = tokens.withLock({ $0 }), cached.expires > now { return cached.values }
        let values = try await directory.routes(kind: .whatsapp).compactMap { $0.1.verifyToken }
        tokens.withLock { $0 = (values, now + ttl) }
        return values
    }
}
