/// A lease as the member of a queue's `active` zset that records it: `<job id>|<fencing token>|<worker id>`.
/// Only the lease's holder can name it, so the scripts' fencing check is whether that member is still there.
public struct LeaseMember: Sendable, Hashable {
    public let jobID: String
    public let token: Int64
    public let worker: String

    /// Splits a member of `active`; nil for one of another shape.
    public init?(_ member: String) {
        let parts = member.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let token = Int64(parts[1]) else { return nil }
        (jobID, self.token, worker) = (String(parts[0]), token, String(parts[2]))
    }
}
