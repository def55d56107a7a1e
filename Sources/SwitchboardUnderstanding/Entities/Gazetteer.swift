/// Places Switchboard recognises by name, in English and Spanish: countries (with their Spanish names and common
/// abbreviations) and large cities of the Americas and Europe. A name that is also an ordinary word ("Nice",
/// "Reading", "Mobile", "Santiago" is not one) must be capitalised to count.
enum Gazetteer {
    /// Folded name → canonical name.
    static let countries: [String: String] = {
        var map: [String: String] = [:]
        let rows: [(String, [String])] = [
            ("United States", ["united states", "usa", "us", "u.s.", "estados unidos", "eeuu", "america"]),
            ("Canada", ["canada"]), ("Mexico", ["mexico", "méxico"]), ("Spain", ["spain", "espana", "españa"]),
            ("United Kingdom", ["united kingdom", "uk", "reino unido", "england", "inglaterra", "great britain"]),
            ("Ireland", ["ireland", "irlanda"]), ("France", ["france", "francia"]), ("Germany", ["germany", "alemania"]),
            ("Italy", ["italy", "italia"]), ("Portugal", ["portugal"]), ("Netherlands", ["netherlands", "holland", "paises bajos", "holanda"]),
            ("Belgium", ["belgium", "belgica"]), ("Switzerland", ["switzerland", "suiza"]), ("Austria", ["austria"]),
            ("Sweden", ["sweden", "suecia"]), ("Norway", ["norway", "noruega"]), ("Denmark", ["denmark", "dinamarca"]),
            ("Finland", ["finland", "finlandia"]), ("Poland", ["poland", "polonia"]), ("Hungary", ["hungary", "hungria"]),
            ("Czechia", ["czechia", "czech republic", "republica checa"]), ("Greece", ["greece", "grecia"]), ("Romania", ["romania", "rumania"]),
            ("Argentina", ["argentina"]), ("Chile", ["chile"]), ("Colombia", ["colombia"]), ("Peru", ["peru"]),
            ("Venezuela", ["venezuela"]), ("Ecuador", ["ecuador"]), ("Bolivia", ["bolivia"]), ("Uruguay", ["uruguay"]),
            ("Paraguay", ["paraguay"]), ("Brazil", ["brazil", "brasil"]), ("Cuba", ["cuba"]),
            ("Dominican Republic", ["dominican republic", "republica dominicana"]),
            ("Puerto Rico", ["puerto rico"]), ("Guatemala", ["guatemala"]), ("Honduras", ["honduras"]), ("El Salvador", ["el salvador"]),
            ("Nicaragua", ["nicaragua"]), ("Costa Rica", ["costa rica"]), ("Panama", ["panama"]), ("Australia", ["australia"]),
            ("New Zealand", ["new zealand", "nueva zelanda"]), ("Japan", ["japan", "japon"]), ("China", ["china"]), ("India", ["india"]),
            ("Morocco", ["morocco", "marruecos"]), ("South Africa", ["south africa", "sudafrica"]), ("Turkey", ["turkey", "turquia"]),
            ("Israel", ["israel"]), ("Philippines", ["philippines", "filipinas"]),
        ]
        for (name, aliases) in rows { for alias in aliases { map[alias] = name } }
        return map
    }()

    static let cities: [String: String] = {
        let names = [
            "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia", "San Antonio", "San Diego", "Dallas", "San Jose",
            "Austin", "Miami", "Atlanta", "Boston", "Seattle", "Denver", "Detroit", "Las Vegas", "Portland", "San Francisco", "Orlando",
            "Washington", "Nashville", "Baltimore", "Toronto", "Montreal", "Vancouver", "Mexico City", "Guadalajara", "Monterrey", "Puebla",
            "Tijuana", "Cancun", "Madrid", "Barcelona", "Valencia", "Sevilla", "Seville", "Malaga", "Bilbao", "Zaragoza", "Alicante",
            "Murcia", "Palma", "Granada", "Cordoba", "Valladolid", "Vigo", "London", "Manchester", "Birmingham", "Liverpool", "Edinburgh",
            "Glasgow", "Dublin", "Cork", "Paris", "Lyon", "Marseille", "Berlin", "Munich", "Hamburg", "Frankfurt", "Rome", "Roma", "Milan",
            "Milano", "Naples", "Lisbon", "Lisboa", "Porto", "Amsterdam", "Rotterdam", "Brussels", "Vienna", "Zurich", "Geneva",
            "Stockholm", "Oslo", "Copenhagen", "Helsinki", "Warsaw", "Budapest", "Prague", "Athens", "Bucharest", "Buenos Aires",
            "Santiago", "Bogota", "Medellin", "Cali", "Lima", "Caracas", "Quito", "Guayaquil", "La Paz", "Montevideo", "Asuncion",
            "Sao Paulo", "Rio de Janeiro", "Havana", "La Habana", "Santo Domingo", "San Juan", "Guatemala City", "San Salvador",
            "Tegucigalpa", "Managua", "Panama City", "Sydney", "Melbourne", "Tokyo", "Nueva York", "Londres", "Ciudad de Mexico", "CDMX",
        ]
        var map: [String: String] = [:]
        for name in names { map[name.lowercased()] = name }
        map["nueva york"] = "New York"
        map["londres"] = "London"
        map["ciudad de mexico"] = "Mexico City"
        map["cdmx"] = "Mexico City"
        map["roma"] = "Rome"
        map["milano"] = "Milan"
        map["lisboa"] = "Lisbon"
        map["seville"] = "Sevilla"
        map["la habana"] = "Havana"
        return map
    }()

    /// Names that are also ordinary words: matched only when capitalised in the text.
    static let needsCapital: Set<String> = [
        "us", "america", "chile", "turkey", "china", "cali", "palma", "granada", "cork", "lima", "porto", "roma", "washington", "phoenix", "india",
        "la paz", "portland",
    ]

    /// The longest name, in words.
    static let longestName = 3
}
