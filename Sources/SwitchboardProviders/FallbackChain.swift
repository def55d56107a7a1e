/// Tries a tenant's models in order and ends with the embedded models, so an outage of every hosted provider degrades
/// an answer, never stops a conversation. An invalid answer is asked for once more before moving on; a timeout, a
/// server error after retries, a refusal or an open circuit moves on at once. A rate limit is not a reason to give
/// up on the provider: it ends the chain with ``RateLimitedChain`` so the job is rescheduled for when it may call.
public enum FallbackChain {
    /// One link tried.
    public struct Attempt: Sendable, CustomStringConvertible {
        public var model: ModelRef
        /// nil for the link that answered.
        public var error: ProviderError?
        public var description: String { "\(model): " + (error.map { "\($0.kind)" } ?? "ok") }
    }

    /// Runs `call` on each model of `models` until one answers, then `embedded` as the last link.
    public static func run<T: Sendable>(
        _ models: [ModelRef], call: (ModelRef) async throws -> T, embedded: () async throws -> T
    ) async throws -> (value: T, model: ModelRef, attempts: [Attempt]) {
        var attempts: [Attempt] = []
        for model in models where !model.isEmbedded {
            var tries = 0
            while true {
                tries += 1
                do {
                    let value = try await call(model)
                    attempts.append(Attempt(model: model, error: nil))
                    return (value, model, attempts)
                } catch let error as ProviderError {
                    attempts.append(Attempt(model: model, error: error))
                    if case .rateLimited(let after) = error.kind { throw RateLimitedChain(error: error, retryAfter: after, attempts: attempts) }
                    if case .cancelled = error.kind { throw CancellationError() }
                    if case .invalidOutput = error.kind, tries == 1 { continue }
                    break
                }
            }
        }
        let value = try await embedded()
        attempts.append(Attempt(model: .embedded, error: nil))
        return (value, .embedded, attempts)
    }
}

/// A provider of the chain asked to wait: the job should run again after `retryAfter` (the caller turns it into the
/// queue's `RetryLater`).
public struct RateLimitedChain: Error, Sendable, CustomStringConvertible {
    public let error: ProviderError
    public let retryAfter: Duration?
    public let attempts: [FallbackChain.Attempt]
    public var description: String { error.description }
}
