/// A provider call that did not give a usable answer. Its text names the provider, the model and the HTTP status, and
/// what to do; never the key, the prompt or the provider's message (which can quote either).
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// 429 (or Anthropic's 529 overloaded): wait `retryAfter` when the provider said how long.
        case rateLimited(retryAfter: Duration?)
        /// 5xx after the in-call retries.
        case serverError
        /// 401 or 403: the key is wrong, revoked or lacks access.
        case unauthorized
        /// Another 4xx (400 bad request, 404 unknown model, 413, 422): the request itself is wrong.
        case rejected
        case timedOut
        /// Connection refused, host not found, TLS failure.
        case unreachable
        /// The answer does not decode as the requested type or fails its checks.
        case invalidOutput(String)
        /// The provider answered 2xx with a body of the wrong shape.
        case malformedResponse
        /// The provider's circuit breaker is open: it failed repeatedly just now, so the call was not made.
        case circuitOpen
        case cancelled
    }

    public let provider: String
    public let model: String
    public let status: Int?
    public let kind: Kind
    /// The provider's own error type or code when it sent one ("invalid_api_key", "rate_limit_error"): a closed set
    /// of identifiers, safe to show.
    public let code: String?

    public init(provider: String, model: String, status: Int? = nil, kind: Kind, code: String? = nil) {
        (self.provider, self.model, self.status, self.kind, self.code) = (provider, model, status, kind, code)
    }

    /// Worth trying the next model of a fallback chain.
    public var movesToNextModel: Bool {
        switch kind {
        case .cancelled, .rateLimited: false
        default: true
        }
    }

    /// Counts against the provider's circuit breaker (the provider, not the request, is at fault).
    public var countsAgainstProvider: Bool {
        switch kind {
        case .serverError, .timedOut, .unreachable, .malformedResponse: true
        default: false
        }
    }

    public var description: String {
        let what = "\(provider) \(model)" + (status.map { ": HTTP \($0)" } ?? "") + (code.map { " (\($0))" } ?? "")
        switch kind {
        case .rateLimited(let after):
            return "\(what): rate limited" + (after.map { ", retry in \($0)" } ?? "") + "; the job is rescheduled, not failed"
        case .serverError: return "\(what): server error after retries; the next model in the chain is tried"
        case .unauthorized: return "\(what): the API key was refused; set a valid key with: switchboard providers set"
        case .rejected: return "\(what): the request was refused; check the model id and the settings"
        case .timedOut: return "\(what): no answer within the timeout"
        case .unreachable: return "\(what): cannot connect; check the base URL and the network"
        case .invalidOutput(let reason): return "\(what): the answer does not match the expected output: \(reason)"
        case .malformedResponse: return "\(what): the answer is not the provider's documented shape"
        case .circuitOpen: return "\(what): skipped, the provider failed repeatedly just now (circuit open)"
        case .cancelled: return "\(what): cancelled"
        }
    }
}
