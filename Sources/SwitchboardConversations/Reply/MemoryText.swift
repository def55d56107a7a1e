import Foundation
public import SwitchboardOrders

/// The embedded writer's sentences about the conversation's memory: welcoming a returning customer back to the
/// previous topic (and a pending order), and answering "did you forget my question?".
public enum MemoryText {
    /// A topic (an intent name) as a reply mentions it: "your order", "tracking your order". Unknown topics read as their
    /// words ("store_hours" → "store hours").
    public static func topic(_ intent: String, spanish es: Bool) -> String {
        let phrases: [String: (en: String, es: String)] = [
            "place_order": ("your order", "su pedido"),
            "change_order": ("changing your order", "cambiar su pedido"),
            "cancel_order": ("cancelling your order", "cancelar su pedido"),
            "track_order": ("tracking your order", "el seguimiento de su pedido"),
            "delivery_period": ("when your delivery arrives", "cuándo llega su entrega"),
            "delivery_options": ("delivery options", "las opciones de entrega"),
            "change_shipping_address": ("your delivery address", "su dirección de entrega"),
            "set_up_shipping_address": ("your delivery address", "su dirección de entrega"),
            "get_invoice": ("your invoice", "su factura"),
            "check_invoice": ("your invoice", "su factura"),
            "get_refund": ("a refund", "un reembolso"),
            "track_refund": ("your refund", "su reembolso"),
            "check_refund_policy": ("our refund policy", "nuestra política de reembolsos"),
            "check_payment_methods": ("payment methods", "los medios de pago"),
            "payment_issue": ("a payment problem", "un problema con un pago"),
            "complaint": ("your complaint", "su reclamo"),
            "price_question": ("prices", "los precios"),
            "check_cancellation_fee": ("the cancellation fee", "el cargo por cancelación"),
            "recover_password": ("your password", "su contraseña"),
            "create_account": ("opening an account", "abrir una cuenta"),
            "edit_account": ("your account", "su cuenta"),
            "delete_account": ("closing your account", "cerrar su cuenta"),
            "switch_account": ("your account", "su cuenta"),
            "registration_problems": ("signing up", "el registro"),
            "newsletter_subscription": ("the newsletter", "el boletín"),
            "review": ("your feedback", "su opinión"),
            "contact_customer_service": ("reaching our team", "contactar al equipo"),
            "contact_human_agent": ("talking to our team", "hablar con el equipo"),
        ]
        if let phrase = phrases[intent] { return es ? phrase.es : phrase.en }
        return intent.replacingOccurrences(of: "_", with: " ")
    }

    /// The welcome back: the previous topic, an offer to continue or start fresh, and the pending order as it stands.
    public static func welcomeBack(_ memory: RestoredMemory, spanish es: Bool) -> String {
        var parts: [String] = []
        if let order = memory.pendingOrder, !order.lines.isEmpty {
            let lines = order.lines.prefix(6).map { line in
                "- \(ReplyComposer.quantity(line.quantity))\(line.unit.map { " \($0)" } ?? "") \(line.isAmbiguous ? line.text : line.name)"
            }
            parts.append(
                es
                    ? "¡Hola de nuevo! La última vez quedó pendiente su pedido, que sigue guardado como borrador:"
                    : "Welcome back! Last time we were working on your order, which is still saved as a draft:")
            parts.append(lines.joined(separator: "\n"))
            parts.append(
                es
                    ? "¿Quiere seguir con ese pedido (confirmarlo o cambiarlo) o empezar de nuevo?"
                    : "Would you like to continue with that order (confirm or change it), or start fresh?")
        } else if let topic = memory.previousTopic {
            parts.append(
                es
                    ? "¡Hola de nuevo! La última vez hablamos de \(Self.topic(topic, spanish: true)). ¿Quiere continuar con eso o empezar de nuevo?"
                    : "Welcome back! Last time we talked about \(Self.topic(topic, spanish: false)). Would you like to continue with that, or start fresh?"
            )
        } else {
            parts.append(es ? "¡Hola de nuevo!" : "Welcome back!")
        }
        return parts.joined(separator: "\n")
    }

    /// The opening of an answer to a forgotten question: an apology and the question as the customer asked it.
    public static func forgottenOpening(question: String, spanish es: Bool) -> String {
        let quoted = question.count > 160 ? String(question.prefix(157)) + "…" : question
        return es
            ? "Disculpe la demora. Sobre su pregunta «\(quoted)»:"
            : "Sorry for the wait. About your question \"\(quoted)\":"
    }

    /// A forgotten question that needs a person.
    public static func forgottenHandoff(question: String, spanish es: Bool) -> String {
        let quoted = question.count > 160 ? String(question.prefix(157)) + "…" : question
        return es
            ? "Disculpe la demora. Su pregunta «\(quoted)» necesita a una persona del equipo: ya se la pasé y le responderá por aquí en breve."
            : "Sorry for the wait. Your question \"\(quoted)\" needs a person on our team: I've passed it on, and they will reply here shortly."
    }

    /// No question of the customer's is waiting.
    public static func nothingForgotten(spanish es: Bool) -> String {
        es
            ? "No veo ninguna pregunta suya pendiente en esta conversación. ¿Me la puede escribir de nuevo? Le respondo enseguida."
            : "I don't see a question of yours still waiting in this conversation. Could you write it again? I'll answer right away."
    }
}
