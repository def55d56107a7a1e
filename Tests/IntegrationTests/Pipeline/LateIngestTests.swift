import Foundation
import Jobs
import SwitchboardConversations
import SwitchboardQueue
import Testing

/// A burst waits for a message the webhook receiver accepted but ingest has not stored yet (its worker died and the
/// job waits out its lease): the intake mark holds the turn back, at most the burst's max wait.
@Suite("Late ingest", .serialized, .timeLimit(.minutes(3)))
struct LateIngestTests {
    @Test func aBurstWaitsForAMessageAcceptedButNotYetStored() async throws {
        let world = try await PipelineWorld.make("late ingest")
        let server = FakeMessagingServer()
        let phone = PipelineWorld.phone()
        let marks = IntakeMarks(redis: world.redis)
        let lateID = "wamid.late.\(UUID().uuidString)"
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await marks.mark([IntakeMark(sender: "\(world.channel):\(phone)", id: lateID, receivedAtMs: now)])
        try await server.run { port in
            try await world.withWorker(messagingPort: port) {
                try await world.customerWrites("hola, necesito 5 kg de tomate roma", from: phone)
                // Well past the 600 ms window: the turn waits while the second message is accepted and not stored.
                try await Task.sleep(for: .seconds(2))
                #expect(try await world.timeline(of: phone)?.turns.isEmpty == true)
                try await world.customerWrites("y 2 sacos de cebolla morada", from: phone, id: lateID)
                let timeline = try await world.decidedTurns(1, of: phone)
                try await Task.sleep(for: .seconds(1))
                let again = try #require(try await world.timeline(of: phone))
                #expect(again.turns.count == 1 && again.turns[0].messageIDs.count == 2)
                #expect(timeline.turns[0].decision == "reply")
                #expect(try await marks.pending(senders: ["\(world.channel):\(phone)"], sinceMs: 0) == 0)
            }
        }
        try await world.shutdown()
    }

    @Test func aStaleMarkHoldsABurstNoLongerThanTheIntakeWait() async throws {
        let world = try await PipelineWorld.make("stale mark")
        let server = FakeMessagingServer()
        let phone = PipelineWorld.phone()
        let marks = IntakeMarks(redis: world.redis)
        // A message accepted whose job never runs.
        try await marks.mark([
            IntakeMark(sender: "\(world.channel):\(phone)", id: "wamid.lost", receivedAtMs: Int64(Date().timeIntervalSince1970 * 1000))
        ])
        let started = ContinuousClock.now
        try await server.run { port in
            try await world.withWorker(messagingPort: port, intakeWait: .seconds(6)) {
                try await world.customerWrites("hola", from: phone)
                let timeline = try await world.decidedTurns(1, of: phone, timeout: .seconds(30))
                let waited = ContinuousClock.now - started
                #expect(timeline.turns.count == 1)
                // The intake wait is 6 s here (2 minutes in production): the turn came after it, not before, nor much later.
                #expect(waited >= .seconds(6) && waited < .seconds(20), "waited \(waited)")
            }
        }
        try await world.shutdown()
    }
}
