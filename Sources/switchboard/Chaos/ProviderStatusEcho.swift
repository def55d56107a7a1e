import Synchronization

/// The chaos run's fake provider posting delivery statuses back, as Meta does after accepting a send: each send
/// the sink records is answered, within a second, by a signed `statuses` webhook to `web` carrying the `wamid` and our
/// reference. A send whose worker was killed before it recorded the answer is then resolved by that status, not sent
/// again. A status `web` refuses (Redis restarting) is posted again, as providers retry.
final class ProviderStatusEcho: Sendable {
    private let poster = Mutex<WhatsAppPoster?>(nil)
    private let counts = Mutex<(posted: Int, failed: Int)>((0, 0))

    /// Statuses `web` accepted, and those it refused on every try.
    var posted: Int { counts.withLock { $0.posted } }
    var failed: Int { counts.withLock { $0.failed } }

    /// Where statuses go, once `web` is up; sends before that get no status.
    func start(_ poster: WhatsAppPoster) { self.poster.withLock { $0 = poster } }

    func echo(_ send: MessagingSink.Send) {
        guard let reference = send.reference, let poster = poster.withLock({ $0 }) else { return }
        Task {
            for _ in 0..<60 {
                do {
                    try await poster.postStatus("sent", id: send.id, to: send.to, reference: reference)
                    counts.withLock { $0.posted += 1 }
                    return
                } catch {
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            counts.withLock { $0.failed += 1 }
        }
    }
}
