public import ArgumentParser
import FoundationEssentials
import SwitchboardPostgres
import SwitchboardStore

extension ChannelKind: ExpressibleByArgument {}

struct ChannelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channels",
        abstract: "Register and list tenants' WhatsApp, Twilio and email channels.",
        discussion:
            "Examples:\n  switchboard channels add --tenant $TENANT --kind twilio --number +14155550100 --auth-token \"$TOKEN\"\n  switchboard channels list",
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a channel; its secrets are sealed with SWITCHBOARD_SECRET_KEY before they are stored.",
            discussion: """
                The address routes inbound webhooks to the tenant, so each address belongs to one channel only.

                Examples:
                  switchboard channels add --tenant $TENANT --kind whatsapp --phone-number-id 106540352242922 \\
                      --app-secret "$META_APP_SECRET" --verify-token my-verify-token
                  switchboard channels add --tenant $TENANT --kind twilio --number +14155550100 --auth-token "$TWILIO_AUTH_TOKEN"
                  switchboard channels add --tenant $TENANT --kind email --address support@shop.example --inbound-token "$TOKEN"
                """)

        @Option(help: "The tenant's id (from: switchboard tenants list).") var tenant: String
        @Option(help: "whatsapp, twilio or email.") var kind: ChannelKind
        @Option(help: "An optional label shown in listings.") var name: String?
        @OptionGroup(title: "WhatsApp") var whatsapp: WhatsAppChannelOptions
        @OptionGroup(title: "Twilio") var twilio: TwilioChannelOptions
        @OptionGroup(title: "Email") var email: EmailChannelOptions

        func validate() throws {
            guard UUID(uuidString: tenant) != nil else {
                throw ValidationError("--tenant must be a tenant id (a UUID); list them with: switchboard tenants list")
            }
            let given: [(String, String?)] = [
                ("--phone-number-id", whatsapp.phoneNumberId), ("--number", twilio.number), ("--address", email.address),
            ]
            let expected = ["whatsapp": "--phone-number-id", "twilio": "--number", "email": "--address"][kind.rawValue]!
            for (flag, value) in given where value != nil && flag != expected {
                throw ValidationError("\(flag) does not apply to a \(kind.rawValue) channel; use \(expected)")
            }
            if given.first(where: { $0.0 == expected })?.1 == nil {
                throw ValidationError("a \(kind.rawValue) channel needs \(expected) (the \(kind.addressMeaning))")
            }
        }

        func run() async throws {
            let channel = try await withDatabase { settings, db in
                let channels = ChannelDirectory(db: db, secretBox: try settings.secretBox())
                let secrets = ChannelSecrets(
                    appSecret: whatsapp.appSecret, verifyToken: whatsapp.verifyToken, authToken: twilio.authToken, inboundToken: email.inboundToken,
                    accessToken: whatsapp.accessToken, accountSID: twilio.accountSid)
                return try await channels.addChannel(
                    tenant: UUID(uuidString: tenant)!, kind: kind, address: whatsapp.phoneNumberId ?? twilio.number ?? email.address ?? "",
                    name: name,
                    secrets: secrets)
            }
            print(channel.id.uuidString.lowercased())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List channels (never their secrets).",
            discussion: "Examples:\n  switchboard channels list\n  switchboard channels list --tenant $TENANT --json")

        @Option(help: "Only this tenant's channels.") var tenant: String?
        @Flag(help: "Print a JSON array of {id, tenantID, kind, address, name, createdAt}.") var json = false

        func validate() throws {
            if let tenant, UUID(uuidString: tenant) == nil { throw ValidationError("--tenant must be a tenant id (a UUID)") }
        }

        func run() async throws {
            let list = try await withDatabase { _, db in
                try await ChannelDirectory(db: db, secretBox: nil).channels(tenant: tenant.flatMap(UUID.init(uuidString:)))
            }
            if json {
                print(try jsonText(list))
            } else {
                print(
                    Table(
                        headers: ["ID", "TENANT", "KIND", "ADDRESS", "NAME"],
                        rows: list.map {
                            [$0.id.uuidString.lowercased(), $0.tenantID.uuidString.lowercased(), $0.kind.rawValue, $0.address, $0.name ?? ""]
                        }
                    ).render())
            }
        }
    }
}

struct SecretKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret-key",
        abstract: "Print a new random SWITCHBOARD_SECRET_KEY (32 bytes, base64).",
        discussion: "Example:\n  export SWITCHBOARD_SECRET_KEY=$(switchboard secret-key)")
    func run() { print(SecretBox.generateKey()) }
}

struct WhatsAppChannelOptions: ParsableArguments {
    @Option(help: "The phone_number_id from the Meta app dashboard.") var phoneNumberId: String?
    @Option(help: "The Meta app secret that signs webhooks.") var appSecret: String?
    @Option(help: "The verify token you give Meta for the subscription handshake.") var verifyToken: String?
    @Option(help: "The Cloud API access token replies are sent with (sealed; needed to send).") var accessToken: String?
}

struct TwilioChannelOptions: ParsableArguments {
    @Option(help: "The number in E.164 form, such as +14155550100.") var number: String?
    @Option(help: "The account auth token that signs webhooks (and, with --account-sid, sends replies).") var authToken: String?
    @Option(help: "The account SID replies are sent under (needed to send).") var accountSid: String?
}

struct EmailChannelOptions: ParsableArguments {
    @Option(help: "The inbound address, such as support@shop.example.") var address: String?
    @Option(help: "The token or basic-auth password the inbound provider sends.") var inboundToken: String?
}
