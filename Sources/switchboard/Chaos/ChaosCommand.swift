import SwitchboardProcess
import ArgumentParser
import Foundation
import Glibc
import Synchronization
import SwitchboardConversations
import SwitchboardHTTP
import SwitchboardPostgres
import SwitchboardQueue

/// `switchboard chaos`: recorded conversations replayed through signed webhooks into `web` while processes and
/// servers fail, then the pipeline's guarantees checked in the database and at the fake provider.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Replay conversations through web and workers under crashes and restarts; check every guarantee and report.",
        discussion: """
            Starts a redis-server of its own (AOF, fsync every second), `switchboard web`, `switchboard worker` (two \
            children) and three `switchboard scheduler` replicas firing expire-contexts every 5 s, with WhatsApp sends \
            going to a fake Cloud API in this process. Each conversation is a customer's burst of 3–5 messages (gaps \
            of 0.2–2 s), started at --rate per second; a webhook the intake refuses (Redis down) is delivered again, \
            as providers do. The fake API posts each send's delivery status back to `web`, as Meta does, so a send \
            cut short by a kill is resolved by its status; one that never reached the API is sent again after 90 s. \
            Faults, during the replay:
              kill-workers      a worker child SIGKILLed every 2 s
              restart-redis     Redis SHUTDOWN (AOF flushed) and started again, once
              restart-postgres  $SWITCHBOARD_CHAOS_PG_RESTART run once (scripts/chaos sets it)
              kill-scheduler    one scheduler replica of three SIGKILLed
            Then it waits for every turn to be decided and every context to expire, and checks: every message stored \
            exactly once, one turn per burst, one decision per turn, no reply received twice, nothing left queued, no \
            dead job. Exit status 1 when a check fails. scripts/chaos runs the full form (500 conversations, all four \
            faults); the test suite runs 50 conversations with kill-workers and restart-redis.
            """)
    @Option(help: "Conversations, one burst each.") var conversations = 500
    @Option(help: "Conversations started per second.") var rate = 5.0
    @Option(help: "Faults, comma-separated (default: all four).") var faults = ChaosFault.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "The tenant's burst window (quiet time that ends a burst).") var window = "5s"
    @Option(help: "The tenant's context idle time (contexts expire during the run).") var idle = "20s"
    @Option(help: "The catalogue and help center (catalog.csv and kb/).") var data = "scripts/demo-data"
    @Option(help: "Where the children's logs and Redis's files go (default: a new temporary folder).") var dir: String?
    @Option(help: "Seed of the bursts' sizes, gaps and texts.") var seed: UInt64 = 7
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard conversations >= 1, rate > 0 else { throw ValidationError("--conversations and --rate must be above 0") }
        for name in faultList where ChaosFault(rawValue: name) == nil {
            throw ValidationError("unknown fault \"\(name)\"; use \(ChaosFault.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if faultList.contains(ChaosFault.restartPostgres.rawValue), ProcessInfo.processInfo.environment["SWITCHBOARD_CHAOS_PG_RESTART"] == nil {
            throw ValidationError("restart-postgres needs SWITCHBOARD_CHAOS_PG_RESTART, the command that restarts PostgreSQL (scripts/chaos sets it)")
        }
    }

    var faultList: [String] { faults.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    var chosen: Set<ChaosFault> { Set(faultList.compactMap(ChaosFault.init(rawValue:))) }

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let box = try settings.secretBox()
        let folder = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-chaos-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var configured = PipelineSettings()
        do {
            configured.burstWindow = try DurationText.parse(window)
            configured.burstMaxWait = max(configured.burstWindow * 4, .seconds(20))
            configured.contextIdle = try DurationText.parse(idle)
        } catch { throw ValidationError("\(error)") }
        let tenantSettings = configured
        let http = HTTPClient(poolSize: 16)
        let statuses = ProviderStatusEcho()
        let sink = MessagingSink(onSend: { statuses.echo($0) })
        let redis = try ChaosRedis(dir: folder)
        try await redis.start()
        let report = try await withModelAndDatabase { _, db, embedder -> ChaosReport in
            let (tenant, phone, secret) = try await makeBenchTenant(
                "chaos", db: db, box: box, embedder: embedder, data: data, settings: tenantSettings)
            try Self.writeSchedule(to: folder + "/schedules")
            let outcome = Mutex<ChaosReport?>(nil)
            try await sink.run { sinkPort in
                let cluster = try ChaosCluster(
                    folder: folder, redisURL: redis.url, sinkPort: sinkPort, schedules: folder + "/schedules", webPort: try freeLoopbackPort())
                defer { cluster.stopAll() }
                try await cluster.waitForWeb(http: http)
                let poster = WhatsAppPoster(url: "http://127.0.0.1:\(cluster.webPort)", phoneNumberID: phone, appSecret: secret, http: http)
                statuses.start(poster)
                let plans = ChaosReplay.plans(conversations: conversations, seed: seed)
                let expected = Double(conversations) / rate
                if !json { print("replaying \(conversations) conversations at \(rate)/s with faults: \(faultList.joined(separator: ", "))") }
                let injector = ChaosInjector(faults: chosen, cluster: cluster, redis: redis, quiet: json)
                let replayed = try await withThrowingTaskGroup(of: ChaosReplay.Posted?.self) { group in
                    group.addTask { try await ChaosReplay.post(plans, rate: rate, poster: poster) }
                    group.addTask {
                        await injector.run(expectedSeconds: expected)
                        return nil
                    }
                    var posted: ChaosReplay.Posted? = nil
                    for try await result in group {
                        if let result {
                            posted = result
                            injector.replayFinished()
                        }
                    }
                    return posted!
                }
                if !json { print("replayed \(replayed.messages) messages (\(replayed.retries) deliveries repeated); waiting for the pipeline…") }
                let settle = ChaosSettle(db: db, tenant: tenant, redisURL: redis.url)
                try await settle.waitForDecisions(turnsAtLeast: conversations, timeout: .seconds(300))
                try await settle.waitForSends(sink: sink, timeout: .seconds(180))
                try await settle.waitForExpiry(timeout: .seconds(Int64(tenantSettings.contextIdle.components.seconds) + 90))
                try await settle.waitForQueuesToDrain(timeout: .seconds(150))
                let report = try await ChaosReport.measure(
                    db: db, tenant: tenant, redisURL: redis.url, posted: replayed, sends: sink.all, faults: injector.counts,
                    conversations: conversations, statusesPosted: statuses.posted)
                outcome.withLock { $0 = report }
            }
            guard let report = outcome.withLock({ $0 }) else { throw ChaosError("the chaos run ended without a report") }
            return report
        }
        await redis.stop()
        try await http.shutdown()
        if json { print(try jsonText(report)) } else { print(report.rendered) }
        if !report.ok { throw ExitCode(1) }
    }

    /// expire-contexts every 5 s for the three replicas (one tick, one run, whichever replica leads).
    static func writeSchedule(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let yaml = """
            expire-contexts:
              cron: "@every 5s"
              job: expire-contexts
              queue: maintenance
              args: { batch: 1000 }
              missed: one
            """
        try yaml.write(toFile: folder + "/chaos.yml", atomically: true, encoding: .utf8)
    }
}
