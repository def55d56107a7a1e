import SwitchboardKnowledge

/// Intents recognised from phrases, in English and Spanish: what the embedded model does not cover (greetings,
/// thanks, price questions) and what a Spanish turn most often asks (the model is English-trained).
///
/// Phrases are matched as whole folded words ("cuanto cuesta" matches "¿Cuánto cuesta?"). Greetings and thanks carry a
/// confidence above the automation bar (0.97): answering them is harmless. Everything else carries 0.9, below it, so a
/// Spanish complaint or delivery question reaches a person or the configured LLM, with the intent already named.
public enum LexiconIntents {
    public struct Entry: Sendable {
        public var intent: String
        public var confidence: Float
        public var phrases: [[String]]
    }

    public static let greeting = "greeting"
    public static let thanks = "thanks"
    public static let priceQuestion = "price_question"
    /// "Did you forget my question?": the customer is waiting for an answer the conversation never gave.
    public static let forgotRequest = "forgot_request"

    public static let entries: [Entry] = [
        entry(
            greeting, 0.97,
            [
                "hi", "hello", "hey", "good morning", "good afternoon", "good evening", "hola", "buenos dias", "buen dia", "buenas tardes",
                "buenas noches", "buenas", "que tal", "saludos",
            ]),
        entry(thanks, 0.97, ["thanks", "thank you", "thx", "ty", "gracias", "muchas gracias", "te agradezco", "le agradezco", "mil gracias"]),
        entry(
            "contact_human_agent", 0.9,
            [
                "talk to a human", "real person", "speak to a person", "speak to an agent", "talk to an agent", "human agent",
                "hablar con una persona", "hablar con un agente", "hablar con alguien", "un humano", "persona real", "un asesor",
                "hablar con un asesor", "atencion humana", "con una persona",
            ]),
        entry(
            "complaint", 0.9,
            ["queja", "quejarme", "reclamo", "reclamar", "reclamacion", "poner una queja", "muy mal servicio", "pesimo servicio", "inaceptable"]),
        entry(
            "delivery_period", 0.9,
            [
                "cuando llega", "cuando me llega", "cuando llegara", "cuando llegan", "cuando entregan", "tiempo de entrega", "fecha de entrega",
                "cuanto tarda", "cuanto tardan", "a que hora llega", "hora de entrega",
            ]),
        entry(
            "delivery_options", 0.9,
            ["hacen envios", "envian a", "hacen entregas", "entregan en", "opciones de envio", "costo de envio", "envio a domicilio", "reparten"]),
        entry(
            priceQuestion, 0.9,
            [
                "how much is", "how much are", "how much does", "how much do", "price of", "prices", "price list", "cuanto cuesta",
                "cuanto cuestan", "cuanto vale", "cuanto valen", "cuanto sale", "precio", "precios", "lista de precios", "a como esta",
                "a como estan",
            ]),
        entry(
            "track_order", 0.9,
            ["donde esta mi pedido", "donde viene mi pedido", "estado de mi pedido", "rastrear mi pedido", "seguimiento de mi pedido"]),
        entry("cancel_order", 0.9, ["cancelar mi pedido", "cancelar el pedido", "anular mi pedido", "anular el pedido", "cancelar la orden"]),
        entry("get_invoice", 0.9, ["factura", "mi factura", "la factura", "facturas"]),
        entry(
            forgotRequest, 0.97,
            [
                "did you forget", "you forgot", "forgot my question", "forget my question", "forgot about me", "forget about me",
                "still waiting for an answer", "still waiting for a reply", "no one answered", "nobody answered", "you never answered",
                "you didn't answer", "you did not answer", "didn't get an answer", "any answer to my question", "se olvidaron",
                "se olvido de mi", "te olvidaste", "olvidaste mi pregunta", "olvidaron mi pregunta", "sigo esperando respuesta",
                "sigo esperando una respuesta", "no me respondieron", "no me contestaron", "nadie me responde", "nadie me contesto",
                "no me han respondido", "no me han contestado",
            ]),
    ]

    /// The intents whose phrases occur in `text`, each once, with its confidence. `except` drops labels the caller
    /// covers better (the embedded model's own labels, for English text).
    public static func match(_ text: String, except: Set<String> = []) -> [(intent: String, confidence: Float)] {
        let tokens = TextFolding.words(TextFolding.fold(text)).map(String.init)
        var found: [(String, Float)] = []
        for entry in entries where !except.contains(entry.intent) {
            if entry.phrases.contains(where: { contains(tokens, $0) }) { found.append((entry.intent, entry.confidence)) }
        }
        return found
    }

    static func contains(_ tokens: [String], _ phrase: [String]) -> Bool {
        guard !phrase.isEmpty, phrase.count <= tokens.count else { return false }
        for start in 0...(tokens.count - phrase.count) where tokens[start] == phrase[0] {
            if Array(tokens[start..<(start + phrase.count)]) == phrase { return true }
        }
        return false
    }

    private static func entry(_ intent: String, _ confidence: Float, _ phrases: [String]) -> Entry {
        // Split as texts are (an apostrophe separates words: "didn't" is "didn", "t").
        Entry(intent: intent, confidence: confidence, phrases: phrases.map { TextFolding.words(TextFolding.fold($0)).map(String.init) })
    }
}
