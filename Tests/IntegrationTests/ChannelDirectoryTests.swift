import Foundation
import SwitchboardPostgres
import SwitchboardStore
import Testing

@Suite("Tenants and channels", .timeLimit(.minutes(2)))
struct ChannelDirectoryTests {
    @Test func channelSecretsAreSealedAtRestAndRouteBackOpened() async throws {
        try await SharedSchema.shared.ensureMigrated()
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 2)
        let box = try SecretBox(base64Key: try TestEnvironment.secretKey())
        let tenants = TenantDirectory(db: db)
        let channels = ChannelDirectory(db: db, secretBox: box)
        let tenant = try await tenants.createTenant(name: "  Sealed Shop  ")
        #expect(tenant.name == "Sealed Shop")
        let phoneNumberID = String(UInt64.random(in: 1_000_000...UInt64.max))
        let secrets = ChannelSecrets(appSecret: "meta-app-secret-\(UUID())", verifyToken: "verify-me")
        let channel = try await channels.addChannel(tenant: tenant.id, kind: .whatsapp, address: phoneNumberID, secrets: secrets)

        // At rest: neither secret appears in the stored bytes.
        let stored = try await db.withSystemAccess { conn in
            try conn.query("SELECT secrets FROM channels WHERE id = $1", [.uuid(channel.id)])[0].decode("secrets", as: PostgresBytes.self).bytes
        }
        let storedText = String(decoding: stored, as: UTF8.self)
        #expect(!storedText.contains("meta-app-secret"))
        #expect(!storedText.contains("verify-me"))

        // Routing finds the tenant and opens the secrets.
        let routed = try await channels.route(kind: .whatsapp, address: phoneNumberID)
        #expect(routed?.0.tenantID == tenant.id)
        #expect(routed?.1 == secrets)
        #expect(try await channels.route(kind: .whatsapp, address: "0") == nil)

        // Copying the sealed secrets onto another channel row does not open there (bound to the channel id).
        let other = try await channels.addChannel(
            tenant: tenant.id, kind: .email, address: "Support-\(UUID().uuidString.prefix(6))@Shop.example", secrets: .init(inboundToken: "t"))
        #expect(other.address == other.address.lowercased())
        try await db.withSystemAccess { conn in
            try conn.execute("UPDATE channels SET secrets = $1 WHERE id = $2", [.bytea(stored), .uuid(other.id)])
        }
        await #expect(throws: SecretBoxError.self) { try await channels.route(kind: .email, address: other.address) }

        // A different key cannot open them either.
        let strangers = ChannelDirectory(db: db, secretBox: try SecretBox(base64Key: SecretBox.generateKey()))
        await #expect(throws: SecretBoxError.self) { try await strangers.route(kind: .whatsapp, address: phoneNumberID) }

        // An address routes to one tenant only; missing secrets and bad addresses are clear errors.
        let someoneElse = try await tenants.createTenant(name: "Copycat")
        let clash = await #expect(throws: DirectoryError.self) {
            try await channels.addChannel(tenant: someoneElse.id, kind: .whatsapp, address: phoneNumberID, secrets: secrets)
        }
        #expect(clash?.description.contains("already has the WhatsApp phone_number_id") == true)
        await #expect(throws: DirectoryError.self) {
            try await channels.addChannel(tenant: tenant.id, kind: .whatsapp, address: "12345", secrets: .init(appSecret: "only-half"))
        }
        await #expect(throws: DirectoryError.self) {
            try await channels.addChannel(tenant: tenant.id, kind: .twilio, address: "4155550100", secrets: .init(authToken: "t"))
        }
        await #expect(throws: DirectoryError.self) {
            try await channels.addChannel(tenant: UUID(), kind: .twilio, address: "+14155550100", secrets: .init(authToken: "t"))
        }
        try await db.shutdown()
    }

    @Test func theCommandLineCreatesTenantsAndChannels() async throws {
        try await SharedSchema.shared.ensureMigrated()
        let name = "CLI tenant \(UUID().uuidString.prefix(8))"
        let created = try await runSwitchboard(["tenants", "create", name])
        #expect(created.status == 0, "\(created.stderr)")
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UUID(uuidString: id) != nil)
        let again = try await runSwitchboard(["tenants", "create", name, "--if-missing"])
        #expect(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == id)

        let number = "+1415\(Int.random(in: 1_000_000...9_999_999))"
        let added = try await runSwitchboard([
            "channels", "add", "--tenant", id, "--kind", "twilio", "--number", number, "--auth-token", "tok-\(UUID())",
        ])
        #expect(added.status == 0, "\(added.stderr)")
        let listed = try await runSwitchboard(["channels", "list", "--tenant", id, "--json"])
        #expect(listed.status == 0)
        #expect(listed.stdout.contains(number))
        #expect(listed.stdout.contains(#""tenantID" : "\#(id)""#))  // lower-case ids, as the tables print them
        #expect(!listed.stdout.contains("tok-"))

        let wrongFlag = try await runSwitchboard(["channels", "add", "--tenant", id, "--kind", "twilio", "--address", "a@b.c", "--auth-token", "x"])
        #expect(wrongFlag.status == 2)
        #expect(wrongFlag.stderr.contains("--address does not apply to a twilio channel; use --number"))
        let noKey = try await runSwitchboard(
            ["channels", "add", "--tenant", id, "--kind", "twilio", "--number", "+14155550199", "--auth-token", "x"],
            environment: ["SWITCHBOARD_SECRET_KEY": ""])
        #expect(noKey.status != 0)
        #expect(noKey.stderr.contains("SWITCHBOARD_SECRET_KEY is not set"))
    }
}
