/// The words order messages are made of, in English and Spanish, folded (lower case, no accents): units, numbers,
/// and the cue words that say a clause asks, complains, corrects, cancels or adds. General vocabulary, not any
/// tenant's: products come from the catalogue.
enum OrderLexicon {
    /// Customer unit words → the catalogue unit vocabulary, with the factor for grams and millilitres.
    static let units: [String: (unit: String, factor: Double)] = {
        var map: [String: (String, Double)] = [:]
        func add(_ unit: String, _ factor: Double, _ words: [String]) { for w in words { map[w] = (unit, factor) } }
        add("kg", 1, ["kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramo", "kilogramos", "kilogramme", "kilogrammes", "kl"])
        add("kg", 0.001, ["g", "gr", "grs", "gram", "grams", "gramo", "gramos", "gramme", "grammes"])
        add("box", 1, ["box", "boxes", "case", "cases", "crate", "crates", "caja", "cajas", "cajon", "cajones", "cj", "bx"])
        add("bag", 1, ["bag", "bags", "bolsa", "bolsas"])
        add(
            "unit", 1,
            [
                "unit", "units", "each", "piece", "pieces", "pc", "pcs", "head", "heads", "bunch", "bunches", "tub", "tubs", "jar", "jars",
                "unidad", "unidades", "pieza", "piezas", "pza", "pzas", "manojo", "manojos", "atado", "atados", "cabeza", "cabezas",
                "frasco", "frascos", "ea",
            ])
        add("dozen", 1, ["dozen", "dozens", "doz", "dz", "docena", "docenas"])
        add("liter", 1, ["liter", "liters", "litre", "litres", "l", "lt", "lts", "ltr", "ltrs", "litro", "litros"])
        add("liter", 0.001, ["ml", "mls", "mililitro", "mililitros", "millilitre", "millilitres", "milliliter", "milliliters"])
        add("bottle", 1, ["bottle", "bottles", "jug", "jugs", "botella", "botellas"])
        add("can", 1, ["can", "cans", "tin", "tins", "lata", "latas", "bidon", "bidones"])
        add(
            "pack", 1,
            [
                "pack", "packs", "package", "packages", "packet", "packets", "tray", "trays", "flat", "flats", "paquete", "paquetes", "maple",
                "maples", "charola", "charolas", "bandeja", "bandejas", "pk", "pkt", "pkts", "paq",
            ])
        add("sack", 1, ["sack", "sacks", "bulto", "bultos", "costal", "costales", "saco", "sacos"])
        return map
    }()

    /// Units that measure (a size such as "5 L" or "25kg" can select a product); the others count.
    static let measureUnits: Set<String> = ["kg", "liter"]

    /// Unit words that are also common words elsewhere: a unit only right after a quantity ("2 cans", "a can of").
    static let unitsOnlyAfterQuantity: Set<String> = [
        "can", "l", "g", "each", "flat", "head", "ea", "tin", "case", "jar", "pc", "kl", "dz", "cj", "bx",
    ]

    static let numberWords: [String: Double] = [
        "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
        "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
        "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "hundred": 100,
        "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11,
        "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19,
        "veinte": 20, "veinticinco": 25, "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "cien": 100,
    ]
    /// "a", "an", "un", "una": one, when a unit or a product follows.
    static let articleOne: Set<String> = ["a", "an", "un", "una"]
    static let half: Set<String> = ["half", "medio", "media", "mitad"]
    /// "couple", "pair", "par": two ("a couple of", "un par de").
    static let pair: Set<String> = ["couple", "pair", "par"]

    /// Words between a quantity and a product, or inside product names, that carry no meaning of their own.
    static let connectors: Set<String> = ["of", "de", "del", "the", "el", "la", "los", "las", "en", "para", "those", "these", "esos", "esas"]

    /// Words that can sit around an order line without naming a product (greetings, courtesy, verbs of asking,
    /// time words, pronouns). A word in none of the lists and not in the catalogue may be an unknown product.
    static let fillers: Set<String> = [
        // English
        "hi", "hello", "hey", "good", "morning", "afternoon", "evening", "night", "please", "pls", "plz", "pl", "thanks", "thank", "thx",
        "ty", "you", "can", "could", "would", "will", "shall", "may", "i", "im", "we", "me", "us", "my", "our", "your", "get", "send",
        "need", "needs", "want", "wants", "like", "order", "ordering", "orders", "for", "tomorrow", "today", "tonight", "week", "this",
        "that", "it", "its", "is", "are", "be", "do", "have", "has", "got", "some", "and", "also", "too", "to", "usual", "same", "as",
        "with", "on", "in", "at", "by", "just", "only", "ok", "okay", "so", "oh", "yes", "yeah", "yep", "sure", "asap", "guys", "all",
        "bring", "deliver", "delivery", "ship", "add", "put", "give", "following", "list", "here", "there", "next", "monday", "tuesday",
        "wednesday", "thursday", "friday", "saturday", "sunday", "weekend", "if", "possible", "much", "very", "lot", "lots", "again",
        "kindly", "hope", "well", "cheers", "regards", "love", "dear", "team", "sir", "maam", "buddy", "friend",
        "over", "up", "out", "from", "about", "around", "before", "after", "until", "til", "till", "by", "am", "pm", "time", "times",
        "each", "per", "more", "another", "extra", "additional", "total", "quick", "quickly", "urgent", "urgently", "early", "late",
        "then", "now", "right", "still", "already", "yet", "even", "really", "enough", "left", "maybe", "probably", "make", "let", "lets", "go",
        "going", "gonna", "wanna", "gotta", "ya", "yall", "also,",
        // Spanish
        "hola", "buenos", "buenas", "buen", "dia", "dias", "tarde", "tardes", "noche", "noches", "por", "favor", "porfa", "porfavor",
        "xfa", "xfavor", "gracias", "me", "nos", "te", "le", "les", "manda", "mandame", "mandas", "mandan", "mandar", "mandenme",
        "mande", "envia", "enviame", "envias", "enviar", "envien", "traeme", "traer", "traes", "necesito", "necesitamos", "necesitaria",
        "quiero", "queremos", "quisiera", "quisieramos", "pedido", "pedir", "pido", "para", "manana", "hoy", "y", "tambien", "mas",
        "otro", "otra", "otros", "otras", "solo", "con", "esta", "este", "estos", "estas", "semana", "vez", "que", "si", "lo", "mismo",
        "de", "siempre", "agrega", "agregame", "agregar", "anade", "anademe", "pon", "ponme", "poner", "sumale", "suma", "lunes",
        "martes", "miercoles", "jueves", "viernes", "sabado", "domingo", "finde", "ok", "va", "dale", "listo", "bueno", "pues",
        "entonces", "ahora", "ya", "asi", "aqui", "nuestro", "nuestra", "mi", "mis", "su", "sus", "un", "una", "unos", "unas", "al",
        "a", "an", "the", "cada", "puedes", "podes", "podrias", "puede", "pueden", "hacer", "haz", "favorcito", "amigo", "amiga",
        "senor", "senora", "jefe", "cuando", "pronto", "rapido", "urgente", "temprano", "pasado", "proximo", "proxima",
        "invoice", "invoices", "receipt", "bill", "statement", "account", "payment", "factura", "facturas", "recibo", "cuenta", "pago",
        "ticket", "catalog", "catalogue", "catalogo", "menu", "address", "direccion", "driver", "chofer", "truck", "camion",
        "seria", "sera", "es", "son", "todavia", "aun", "quizas", "tal", "estan", "x", "porfis", "tmb", "tb", "tbn", "q", "k",
        "xq",
    ]

    /// Greetings and interjections that may open a question ("hey, do you have…", "oye, ¿cuánto…").
    static let openers: Set<String> = [
        "hi", "hello", "hey", "ok", "okay", "so", "oh", "and", "also", "btw", "quick", "question", "sorry", "um", "hmm", "hola", "buenas",
        "buenos", "dias", "tardes", "oye", "oiga", "disculpa", "disculpe", "una", "pregunta", "y", "a", "guys", "team", "good", "morning",
        "afternoon", "pls", "please", "porfa", "amigo", "amiga", "jefe", "also", "pues", "bueno", "entonces",
    ]

    /// Adjectives that describe a product without changing which one it is ("fresh", "ripe", "big").
    static let harmlessModifiers: Set<String> = [
        "fresh", "ripe", "nice", "good", "big", "large", "small", "medium", "best", "usual", "regular", "normal", "same", "quality",
        "premium", "firm", "new", "frescos", "frescas", "fresco", "fresca", "maduro", "maduros", "madura", "maduras", "grande",
        "grandes", "chico", "chicos", "chica", "chicas", "pequeno", "pequenos", "mediano", "medianos", "buen", "bueno", "buenos",
        "buena", "buenas", "bonito", "bonitos", "lindo", "lindos", "mejor", "mejores", "extra", "more", "mas", "otra", "otro",
        "another", "of", "de", "the", "el", "la", "los", "las", "those", "these",
    ]

    /// Start a question ("how much", "do you have", "cuánto", "tienen").
    static let questionStarters: Set<String> = [
        "how", "what", "whats", "when", "where", "which", "why", "do", "does", "did", "is", "are", "was", "were", "have", "any",
        "cuanto", "cuanta", "cuantos", "cuantas", "cual", "cuales", "que", "cuando", "donde", "como", "tienen", "tiene", "tenes",
        "hay", "quedan", "queda", "venden", "manejan", "habra",
    ]
    /// A question with one of these asks for goods ("can you send…?", "¿me mandas…?"): it is an order.
    static let requestVerbs: Set<String> = [
        "send", "bring", "deliver", "ship", "add", "put", "get", "give", "order", "mandas", "manda", "mandame", "mandar", "envias",
        "envia", "enviar", "enviame", "traes", "trae", "traer", "traeme", "agregas", "agregar", "agrega", "pones", "poner", "ponme",
        "pasas", "pasar", "das", "dar", "sumas", "sumar",
    ]
    /// A clause saying what went wrong with a past delivery is a complaint, not an order.
    static let complaintCues: Set<String> = [
        "charged", "charge", "came", "arrived", "received", "delivered", "missing", "rotten", "damaged", "broken", "spoiled", "wrong",
        "bad", "moldy", "bruised", "yesterday", "were", "was", "didnt", "never", "refund", "complaint", "short", "llegaron", "llego",
        "vinieron", "vino", "mandaron", "enviaron", "cobraron", "cobraste", "cobro", "faltaron", "falto", "faltan", "ayer",
        "podrido", "podridos", "podrida", "podridas", "malos", "mala", "malas", "mal", "danado", "danados", "rotos", "roto",
        "reclamo", "queja", "devolucion", "reembolso", "pasada", "pasado",
    ]
    /// Negate the product that follows ("no cebolla", "sin cebolla", "no onions", "without").
    static let negations: Set<String> = ["no", "sin", "not", "without", "dont", "nada", "ni", "nothing", "none", "skip"]
    /// Take a product off the order ("forget the onions", "quita la cebolla").
    static let cancelVerbs: Set<String> = [
        "forget", "scratch", "cancel", "remove", "delete", "drop", "skip", "nix", "quita", "quitar", "quitame", "quitale", "saca",
        "sacar", "sacame", "olvida", "olvidate", "olvidalo", "cancela", "cancelar", "cancelame", "elimina", "eliminar", "borra",
        "borrar",
    ]
    /// Change the line just written ("actually make it 6", "no mejor 8", "perdón, fresa son 3").
    static let correctionCues: Set<String> = [
        "actually", "instead", "change", "correction", "rather", "sorry", "oops", "wait", "make", "mejor", "cambia", "cambiar",
        "cambialo", "perdon", "disculpa", "corrijo", "correccion", "better",
    ]
    /// Add to a product already on the order ("1 more sack", "otra caja").
    static let additionCues: Set<String> = ["more", "another", "extra", "additional", "otro", "otra", "otros", "otras", "mas", "adicional"]
    /// Restate a line already written ("just confirming: …").
    static let restateCues: Set<String> = [
        "confirming", "confirm", "confirmed", "confirmo", "confirmar", "confirmando", "recap", "repeat", "repito", "reconfirm",
        "reconfirmo",
    ]
    /// Clauses that ask for goods without a quantity ("y cilantro también", "add basil").
    static let orderCues: Set<String> = [
        "send", "need", "want", "order", "add", "get", "bring", "also", "too", "plus", "quiero", "necesito", "necesitamos", "queremos",
        "manda", "mandame", "mandas", "envia", "enviame", "agrega", "agregame", "pon", "ponme", "tambien", "pedido", "sumale", "anade",
        "please", "pls", "plz", "porfa", "favor", "some", "unos", "unas", "dame", "deme", "traeme", "gimme", "lemme", "ocupo", "ocupamos",
        "regalas", "regala", "regalame", "pasame", "apuntame", "anotame", "anota", "apunta", "encargo", "encargar", "mandeme", "envieme",
    ]
    /// Asking what something costs or whether it is in stock: a product named with no quantity in such a clause
    /// is not ordered ("I want to know the price of avocados").
    static let inquiryWords: Set<String> = [
        "price", "prices", "pricing", "cost", "costs", "precio", "precios", "cuesta", "cuestan", "vale", "valen", "cuanto", "available",
        "availability", "disponible", "disponibles", "stock", "quote", "cotizacion", "know", "saber", "wondering", "info",
    ]
    /// "half and half", "mitad y mitad": one quantity shared by the products around it.
    static let splitEvenly: [[String]] = [["half", "and", "half"], ["mitad", "y", "mitad"], ["half", "half"], ["mitad", "mitad"]]

    /// Words after a number that make it a time, not a quantity ("at 5 pm", "10 minutes").
    static let timeWords: Set<String> = [
        "am", "pm", "h", "hs", "hrs", "hr", "hour", "hours", "min", "mins", "minute", "minutes", "day", "days", "week", "weeks", "hora",
        "horas", "minuto", "minutos", "dia", "dias", "semana", "semanas", "people", "personas", "guests", "pax", "percent", "porciento",
        "st", "nd", "rd", "th", "year", "years", "anos",
    ]
    /// Words before a number that make it a price or a time ("at 3.50", "por 20", "a las 8").
    static let priceOrTimeMarkers: Set<String> = ["at", "@", "$", "usd", "eur", "mxn", "las", "price", "precio", "cost", "costs", "cuesta"]
}
