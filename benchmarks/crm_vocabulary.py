"""Word lists of the CRM benchmark data set (benchmarks/crm_dataset.py): four countries' names, places,
street patterns, phone areas and company words.

Names are common ones of each country (heads of Zipf-weighted lists) plus invented ones for the long
tail; places are real cities with their real postcode patterns, streets are common street names. Every
person, company, number and address built from them is synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _names(text: str) -> tuple[str, ...]:
    # names with spaces ("van den Berg", "Le Gall") are written with underscores in the lists
    return tuple(word.replace("_", " ") for word in text.split())


@dataclass(frozen=True, slots=True)
class City:
    name: str
    postcode: str
    """A pattern: ``#`` a digit, ``@`` a letter, anything else literal (the first characters fix the area)."""
    postcodes: int
    """How many distinct postcodes the city's streets use."""
    landline_area: str
    """The national trunk prefix and area code, e.g. ``030``."""
    weight: int


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    female: tuple[str, ...]
    male: tuple[str, ...]
    family: tuple[str, ...]
    syllables: tuple[str, ...]
    family_endings: tuple[str, ...]
    cities: tuple[City, ...]
    street_roots: tuple[str, ...]
    street_types: tuple[str, ...]
    number_first: bool
    """``12 High Street`` (GB, FR) rather than ``Hauptstraße 12`` (DE, NL)."""
    legal_forms: tuple[str, ...]
    trades: tuple[str, ...]
    providers: tuple[str, ...]
    tld: str
    mobile_prefixes: tuple[str, ...]


GERMANY = Country(
    code="DE",
    female=_words(
        "Maria Anna Ursula Monika Petra Elisabeth Sabine Renate Helga Karin Brigitte Ingrid Erika Andrea "
        "Gisela Claudia Susanne Gabriele Christa Christine Barbara Julia Stefanie Nicole Katharina Laura "
        "Lena Sarah Lisa Johanna Sophie Emma Mia Hannah Lea Clara Greta Ida Eva Paula Marie Charlotte"
    ),
    male=_words(
        "Peter Michael Thomas Andreas Wolfgang Klaus Jürgen Günter Stefan Christian Uwe Werner Horst Frank "
        "Dieter Manfred Gerhard Hans Bernd Helmut Martin Walter Matthias Jan Tobias Lukas Felix Jonas Leon "
        "Paul Ben Finn Elias Noah Max Moritz Niklas Florian Sebastian Alexander Daniel Markus Johannes Philipp"
    ),
    family=_names(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
        "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt "
        "Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber "
        "Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank "
        "Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus "
        "Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber"
    ),
    syllables=_words("ka lo mer tin ber sa vo rin del ta no gus pe lan dor fi mo ra zen bu ste wa hol ki tra"),
    family_endings=("mann", "er", "berg", "hoff", "ke", "ler", "hardt", "s", "bach", "feld", "ow", ""),
    cities=(
        City("Berlin", "10###", 190, "030", 36),
        City("Hamburg", "20###", 100, "040", 18),
        City("München", "80###", 75, "089", 15),
        City("Köln", "50###", 45, "0221", 11),
        City("Frankfurt am Main", "60###", 40, "069", 7),
        City("Stuttgart", "70###", 30, "0711", 6),
        City("Düsseldorf", "40###", 30, "0211", 6),
        City("Leipzig", "04###", 35, "0341", 6),
        City("Dortmund", "44###", 25, "0231", 6),
        City("Dresden", "01###", 30, "0351", 5),
        City("Hannover", "30###", 30, "0511", 5),
        City("Nürnberg", "90###", 30, "0911", 5),
        City("Bremen", "28###", 30, "0421", 5),
        City("Bonn", "53###", 15, "0228", 3),
        City("Freiburg im Breisgau", "79###", 10, "0761", 2),
    ),
    street_roots=_words(
        "Haupt Bahnhof Garten Schul Dorf Berg Kirch Wald Ring Linden Birken Eichen Ahorn Rosen Mühlen Feld "
        "Wiesen Friedrich Goethe Schiller Mozart Beethoven Bismarck Kant Lessing Herder Uhland Heine Luther"
    ),
    street_types=("straße", "straße", "straße", "weg", "allee", "platz", "ring", "gasse"),
    number_first=False,
    legal_forms=("GmbH", "GmbH", "GmbH", "AG", "KG", "GmbH & Co. KG", "UG", "e.K.", "OHG"),
    trades=_words("Maschinenbau Logistik Systems Handel Bau Chemie Software Consulting Foods Textil Elektro Medien"),
    providers=("gmx.de", "web.de", "t-online.de", "gmail.com", "outlook.de", "posteo.de"),
    tld="de",
    mobile_prefixes=("151", "152", "157", "160", "170", "171", "172", "176", "178"),
)

BRITAIN = Country(
    code="GB",
    female=_words(
        "Olivia Emily Sophie Jessica Charlotte Lucy Hannah Sarah Emma Laura Rebecca Amy Rachel Claire Helen "
        "Margaret Susan Elizabeth Catherine Victoria Joanne Nicola Karen Alison Jennifer Lisa Michelle Kelly "
        "Amelia Isla Grace Ava Chloe Megan Ruth Julie Jane Anne Patricia Deborah"
    ),
    male=_words(
        "Oliver Jack Harry George James William Thomas Daniel Matthew David Michael Robert John Richard Paul "
        "Mark Andrew Peter Christopher Stephen Simon Ian Gareth Liam Charlie Joshua Samuel Benjamin Edward "
        "Alexander Joseph Anthony Kevin Gary Neil Craig Stuart Martin Philip Graham Alan"
    ),
    family=_names(
        "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson "
        "Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin "
        "Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson "
        "Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell "
        "Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson "
        "Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes"
    ),
    syllables=_words("ash bur ton ford ley wick ham mor den hol brook wor ing cliff ster field bri dal cot"),
    family_endings=("ton", "ley", "son", "ford", "er", "field", "wood", "s", "", "well", "by"),
    cities=(
        City("London", "E# #@@", 400, "020", 12),
        City("London", "SW# #@@", 400, "020", 10),
        City("London", "N# #@@", 300, "020", 8),
        City("Manchester", "M# #@@", 250, "0161", 9),
        City("Birmingham", "B# #@@", 250, "0121", 9),
        City("Leeds", "LS# #@@", 200, "0113", 6),
        City("Glasgow", "G# #@@", 200, "0141", 6),
        City("Bristol", "BS# #@@", 150, "0117", 5),
        City("Liverpool", "L# #@@", 150, "0151", 5),
        City("Edinburgh", "EH# #@@", 150, "0131", 5),
        City("Sheffield", "S# #@@", 120, "0114", 4),
        City("Cardiff", "CF# #@@", 120, "029", 4),
        City("Nottingham", "NG# #@@", 100, "0115", 3),
        City("Leicester", "LE# #@@", 100, "0116", 3),
    ),
    street_roots=_names(
        "High Station Church Park Victoria Green Manor Mill School Queen's King's New Grange Kingsway Windsor "
        "York Albert Springfield Highfield Stanley Chester Oak Elm Beech Willow Cedar Meadow"
    ),
    street_types=("Road", "Road", "Street", "Street", "Lane", "Avenue", "Close", "Drive", "Way", "Gardens", "Crescent"),
    number_first=True,
    legal_forms=("Ltd", "Ltd", "Ltd", "Limited", "PLC", "LLP"),
    trades=_words(
        "Logistics Engineering Consulting Solutions Trading Holdings Foods Systems Design Services Media Group"
    ),
    providers=("btinternet.com", "hotmail.co.uk", "gmail.com", "yahoo.co.uk", "outlook.com", "sky.com"),
    tld="co.uk",
    mobile_prefixes=("7400", "7500", "7700", "7800", "7900", "7911", "7958", "7812"),
)

FRANCE = Country(
    code="FR",
    female=_names(
        "Marie Camille Léa Manon Chloé Emma Inès Sarah Julie Laura Pauline Céline Nathalie Isabelle Sylvie "
        "Catherine Sophie Valérie Christine Sandrine Aurélie Élodie Mathilde Claire Hélène Anne Monique "
        "Françoise Martine Nicole Jeanne Louise Alice Juliette Marie-Claire Anne-Sophie"
    ),
    male=_names(
        "Jean Pierre Michel Philippe Alain Nicolas Thomas Julien Antoine Lucas Hugo Louis Maxime Alexandre "
        "Sébastien Christophe Laurent Stéphane François Olivier Éric David Guillaume Romain Mathieu "
        "Jean-Pierre Jean-Luc Jean-Marc Patrick Bernard Daniel Jacques André Gabriel Arthur"
    ),
    family=_names(
        "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefebvre Leroy "
        "Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller "
        "Lefèvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand Gauthier Garcia "
        "Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier Masson Marchand Duval Denis Dumont "
        "Lemaire Noël Meyer Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier "
        "Arnaud Martinez Gérard Roche Renard Schmitt Roy Leroux Colin Vidal Caron Picard Le_Gall Da_Silva"
    ),
    syllables=_words("bou char mon vil ger lan bel rou tier gal ver mar pel cour san dor chau bri vel"),
    family_endings=("et", "ier", "eau", "in", "ard", "on", "ot", "", "and", "el"),
    cities=(
        City("Paris", "750##", 20, "01", 30),
        City("Marseille", "130##", 16, "04", 9),
        City("Lyon", "690##", 9, "04", 9),
        City("Toulouse", "310##", 8, "05", 7),
        City("Nice", "060##", 6, "04", 5),
        City("Nantes", "440##", 5, "02", 5),
        City("Strasbourg", "670##", 5, "03", 5),
        City("Montpellier", "340##", 5, "04", 4),
        City("Bordeaux", "330##", 5, "05", 5),
        City("Lille", "590##", 5, "03", 5),
        City("Rennes", "350##", 4, "02", 3),
    ),
    street_roots=_names(
        "de_la_Paix Victor_Hugo de_la_République Jean_Jaurès Pasteur du_Général_de_Gaulle de_la_Gare "
        "Gambetta Voltaire des_Écoles de_l'Église du_Moulin Nationale Émile_Zola Carnot Foch des_Lilas "
        "du_Château de_Verdun Saint-Michel des_Tilleuls"
    ),
    street_types=("rue", "rue", "rue", "avenue", "boulevard", "place", "impasse", "allée", "chemin"),
    number_first=True,
    legal_forms=("SARL", "SARL", "SAS", "SAS", "SA", "EURL", "SNC"),
    trades=_words("Logistique Conseil Bâtiment Informatique Distribution Transports Services Industrie Alimentaire"),
    providers=("orange.fr", "free.fr", "laposte.net", "gmail.com", "sfr.fr", "wanadoo.fr"),
    tld="fr",
    mobile_prefixes=("6", "7"),
)

NETHERLANDS = Country(
    code="NL",
    female=_words(
        "Emma Julia Sophie Anna Lisa Sanne Eva Anouk Fleur Lotte Maria Johanna Cornelia Elisabeth Monique "
        "Ingrid Marieke Petra Sandra Linda Esther Femke Iris Noor Maaike Anke Wilma Annemarie Karin Mirjam"
    ),
    male=_words(
        "Jan Johannes Cornelis Hendrik Willem Pieter Gerrit Jacobus Dirk Daan Sem Lucas Bram Thijs Ruben "
        "Jeroen Bas Sander Martijn Erik Mark Peter Kees Joost Wouter Niels Tim Stijn Rob Hans Frank Arjen"
    ),
    family=_names(
        "de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer de_Boer Mulder "
        "de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer de_Wit Dijkstra Smits de_Graaf "
        "van_der_Meer van_der_Linden Kok Jacobs de_Haan Vermeulen van_den_Heuvel van_der_Veen van_den_Broek "
        "de_Bruijn van_der_Heijden Schouten van_Beek Willems van_Vliet van_de_Ven Hoekstra Maas Verhoeven "
        "Koster van_Dam van_der_Wal Prins Blom Huisman Peeters de_Jonge Kuipers van_Veen Post Kuiper"
    ),
    syllables=_words("ver hoe kam bro wen stra ter gel der hui sel mee kes zwa lin dam vel"),
    family_endings=("stra", "ma", "man", "huis", "sen", "ink", "ers", "", "veld", "kamp"),
    cities=(
        City("Amsterdam", "10## @@", 500, "020", 25),
        City("Rotterdam", "30## @@", 350, "010", 15),
        City("Den Haag", "25## @@", 300, "070", 12),
        City("Utrecht", "35## @@", 250, "030", 10),
        City("Eindhoven", "56## @@", 180, "040", 7),
        City("Groningen", "97## @@", 120, "050", 5),
        City("Tilburg", "50## @@", 120, "013", 5),
        City("Almere", "13## @@", 100, "036", 4),
        City("Breda", "48## @@", 100, "076", 4),
        City("Nijmegen", "65## @@", 100, "024", 4),
    ),
    street_roots=_words(
        "Kerk Dorps School Molen Linden Eiken Berken Wilhelmina Juliana Beatrix Oranje Nieuwe Hoofd Stations "
        "Prinsen Keizers Heren Singel Zuid Noord Oost West Tuin Vondel Rembrandt"
    ),
    street_types=("straat", "straat", "straat", "weg", "laan", "plein", "gracht", "kade", "dijk", "hof"),
    number_first=False,
    legal_forms=("B.V.", "B.V.", "B.V.", "N.V.", "V.O.F."),
    trades=_words("Logistiek Bouw Advies Techniek Installatie Transport Handel Software Groep Diensten"),
    providers=("ziggo.nl", "kpnmail.nl", "hotmail.nl", "gmail.com", "xs4all.nl", "planet.nl"),
    tld="nl",
    mobile_prefixes=("6",),
)

COUNTRIES = (GERMANY, BRITAIN, FRANCE, NETHERLANDS)
COUNTRY_WEIGHTS = (40, 25, 20, 15)

NICKNAMES = {
    "William": "Bill",
    "Robert": "Bob",
    "Richard": "Rick",
    "Elizabeth": "Liz",
    "Margaret": "Maggie",
    "Catherine": "Kate",
    "Jennifer": "Jenny",
    "Christopher": "Chris",
    "Alexander": "Alex",
    "Samuel": "Sam",
    "Benjamin": "Ben",
    "Joseph": "Joe",
    "Anthony": "Tony",
    "Michael": "Mike",
    "Thomas": "Tom",
    "Daniel": "Dan",
    "Matthew": "Matt",
    "Johannes": "Hans",
    "Katharina": "Katja",
    "Wolfgang": "Wolf",
    "Cornelis": "Kees",
    "Nicolas": "Nico",
    "Stefanie": "Steffi",
}

SUB_PREMISES = {"GB": ("Flat", "Flat", "Flat", "Apartment", "Studio"), "FR": ("Appartement", "Apt")}
GB_BUILDINGS = _words("Mill Riverside Victoria Albion Kings Queens Park Station Canal Bridge Wharf Regent Clarence")
GB_BUILDING_TYPES = ("House", "Court", "Lodge", "Mansions", "Place", "Point")
ROLE_MAILBOXES = ("info", "office", "contact", "sales", "hello")
ROLE_MAILBOX = {"DE": "info", "GB": "info", "FR": "contact", "NL": "info"}
