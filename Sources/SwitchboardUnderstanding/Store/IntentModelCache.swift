public import FoundationEssentials
import SwitchboardPostgres
import SwitchboardStore
import Synchronization

/// Each tenant's intent model for the pipeline, kept in memory: the tenant's own trained model when it has one, else
/// the base model; and its out-of-scope threshold override. Every ``ttl`` it checks (one small query) whether the tenant
/// retrained or changed the threshold, and reloads the model only then.
public final class IntentModelCache: Sendable {
    public let store: IntentModelStore
    public let base: IntentModel
    public let ttl: Duration

    struct Entry {
        var trainedAt: String?
        var threshold: Float?
        var model: IntentModel
        var checked: ContinuousClock.Instant
    }
    private let entries = Mutex<[UUID: Entry]>([:])

    public init(store: IntentModelStore, base: IntentModel, ttl: Duration = .seconds(10)) {
        (self.store, self.base, self.ttl) = (store, base, ttl)
    }

    /// The model and threshold override `tenant`'s turns are understood with.
    public func model(tenant: UUID) async throws -> (model: IntentModel, threshold: Float?) {
        let now = ContinuousClock.now
        let cached = entries.withLock { $0[tenant] }
        if let cached, now - cached.checked < ttl { return (cached.model, cached.threshold) }
        let (trainedAt, threshold) = try await store.db.withTenant(tenant) { conn -> (String?, Float?) in
            guard let row = try conn.query("SELECT trained_at::text AS t, out_of_scope_threshold::text AS th FROM intent_models").first else {
                return (nil, nil)
            }
            return (try row.decodeIfPresent("t", as: String.self), try row.decodeIfPresent("th", as: String.self).flatMap(Float.init))
        }
        var model = base
        if let cached, cached.trainedAt == trainedAt {
            model = cached.model
        } else if trainedAt != nil {
            model = try await store.load(tenant: tenant).model ?? base
        }
        entries.withLock { $0[tenant] = Entry(trainedAt: trainedAt, threshold: threshold, model: model, checked: now) }
        return (model, threshold)
    }
}
