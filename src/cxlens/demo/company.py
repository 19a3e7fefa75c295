"""The demo company, Kuusi & Kallio: its stores, teams, name pools and comment texts.

Static data only, so that the behaviour modules stay about behaviour. Everything here is
small (tens of entries); per-person data is drawn from these pools with NumPy indices.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY = "Kuusi & Kallio"
WEB_DOMAIN = "www.kuusikallio.fi"


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    city: str
    country: str
    utc_offset_winter: int  # hours; +1 in summer (EU daylight saving time)


STORES: tuple[Store, ...] = (
    Store("FI-HEL", "Helsinki Kamppi", "Helsinki", "FI", 2),
    Store("FI-ESP", "Espoo Iso Omena", "Espoo", "FI", 2),
    Store("FI-TRE", "Tampere Ratina", "Tampere", "FI", 2),
    Store("FI-TKU", "Turku Skanssi", "Turku", "FI", 2),
    Store("FI-OUL", "Oulu Valkea", "Oulu", "FI", 2),
    Store("SE-STO", "Stockholm Täby Centrum", "Stockholm", "SE", 1),
    Store("SE-GOT", "Göteborg Nordstan", "Göteborg", "SE", 1),
    Store("SE-UPP", "Uppsala Gränby", "Uppsala", "SE", 1),
)
FI_STORES = tuple(i for i, s in enumerate(STORES) if s.country == "FI")
SE_STORES = tuple(i for i, s in enumerate(STORES) if s.country == "SE")

# Teams: one per store, plus the webshop and customer service. (team_id, name, store_id)
TEAMS: tuple[tuple[str, str, str], ...] = (
    *((f"T-{s.store_id}", f"Store team {s.name}", s.store_id) for s in STORES),
    ("T-WEB", "E-commerce", "WEB"),
    ("T-CS", "Customer service", "HQ"),
)
TEAM_SIZES: dict[str, int] = {"T-WEB": 9, "T-CS": 11}  # store teams: 10-16 people
LOW_ENPS_TEAM = "T-FI-TRE"
LOW_ENPS_STORE = "FI-TRE"

ROLES_STORE = ("Sales associate", "Sales associate", "Sales associate", "Cashier",
               "Visual merchandiser", "Shift lead")
ROLES_WEB = ("E-commerce specialist", "Content producer", "Web developer", "Logistics planner")
ROLES_CS = ("Customer service agent", "Customer service agent", "Team lead")

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "fi": ("Aino", "Anna", "Eeva", "Helmi", "Johanna", "Kaisa", "Laura", "Minna", "Noora",
           "Sanna", "Tiina", "Veera", "Antti", "Eero", "Jari", "Juha", "Jussi", "Markku",
           "Mikko", "Olli", "Pekka", "Timo", "Ville", "Väinö"),
    "sv": ("Anna", "Astrid", "Ebba", "Elsa", "Ingrid", "Karin", "Linnéa", "Maja", "Saga",
           "Sofia", "Agnes", "Björn", "Erik", "Gustav", "Johan", "Lars", "Magnus", "Nils",
           "Olof", "Oskar", "Per", "Sven", "Anders", "Åke"),
    "en": ("Emily", "Grace", "Hannah", "Olivia", "Sarah", "Chloe", "James", "Daniel",
           "David", "Thomas", "Michael", "Ryan"),
}
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "fi": ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
           "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen",
           "Salminen", "Heinonen", "Niemi", "Kinnunen", "Salonen", "Turunen", "Lahtinen"),
    "sv": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
           "Persson", "Svensson", "Gustafsson", "Lindholm", "Åberg", "Lindqvist",
           "Sjöberg", "Holmström", "Ekström", "Strömberg", "Lindström"),
    "en": ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright",
           "Robinson", "Hughes"),
}
EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "FI": ("gmail.com", "gmail.com", "outlook.com", "hotmail.com", "elisanet.fi",
           "luukku.com", "icloud.com", "yahoo.com"),
    "SE": ("gmail.com", "gmail.com", "hotmail.com", "outlook.com", "telia.com", "live.se",
           "icloud.com", "bredband.net"),
}
ASCII_FOLD = str.maketrans({"ä": "a", "ö": "o", "å": "a", "é": "e", "Ä": "A", "Ö": "O",
                            "Å": "A"})

PRODUCTS: tuple[tuple[str, str, float], ...] = (
    ("Tunturi 2 hiking tent", "KK-TEN-002", 289.0),
    ("Merino base layer", "KK-MER-110", 69.9),
    ("Birch cutting board", "KK-BIR-020", 34.9),
    ("Down sleeping bag -10", "KK-SLE-310", 219.0),
    ("Wool throw blanket", "KK-WOO-045", 89.0),
    ("Trekking poles pair", "KK-POL-014", 59.9),
    ("Cast iron pan 26 cm", "KK-PAN-026", 54.9),
    ("Linen duvet cover", "KK-LIN-200", 79.0),
    ("Headlamp 400 lm", "KK-HEA-400", 39.9),
    ("Rain jacket", "KK-RAI-070", 149.0),
    ("Candle lantern", "KK-CAN-011", 24.9),
    ("Camping stove", "KK-STO-150", 99.0),
)

# Comment themes: planted in open comments (NPS and CSAT). Shares of comments are given per
# purchase channel; the score shift moves the 0-10 (NPS) answer of a commenter.
THEMES: dict[str, dict[str, object]] = {
    "delivery_delay": {
        "shift": -3.0,
        "fi": ("Toimitus myöhästyi viikolla.", "Paketti tuli monta päivää myöhässä.",
               "Toimitus kesti aivan liian kauan."),
        "sv": ("Leveransen var en vecka försenad.", "Paketet kom flera dagar för sent.",
               "Leveransen tog alldeles för lång tid."),
        "en": ("The delivery was a week late.", "The parcel arrived days late.",
               "Delivery took far too long."),
    },
    "checkout_problems": {
        "shift": -2.0,
        "fi": ("Sovellus kaatui kassalla.", "Verkkokaupan kassa ei toiminut.",
               "Maksaminen sovelluksessa epäonnistui monta kertaa."),
        "sv": ("Appen kraschade i kassan.", "Kassan i webbutiken fungerade inte.",
               "Betalningen i appen misslyckades flera gånger."),
        "en": ("The app crashed at checkout.", "Checkout on the website did not work.",
               "Payment in the app failed several times."),
    },
    "long_queue": {
        "shift": -1.5,
        "fi": ("Pitkä jono kassalla.", "Jonottaminen kassalle kesti kauan."),
        "sv": ("Lång kö i kassan.", "Det tog lång tid att köa till kassan."),
        "en": ("Long queue at the till.", "Queueing at the checkout took ages."),
    },
    "price_high": {
        "shift": -1.0,
        "fi": ("Hinnat ovat liian korkeat.", "Kallis, mutta laadukas.",
               "Hinta oli kova verrattuna muihin kauppoihin."),
        "sv": ("Priserna är för höga.", "Dyrt men bra kvalitet.",
               "Priset var högt jämfört med andra butiker."),
        "en": ("Prices are too high.", "Expensive but good quality.",
               "The price was steep compared with other shops."),
    },
    "product_quality": {
        "shift": 0.8,
        "fi": ("Tuotteiden laatu on erinomainen.", "Teltta on kestänyt hyvin, hyvä laatu.",
               "Laadukkaat tuotteet, kestävät käytössä."),
        "sv": ("Produkternas kvalitet är utmärkt.", "Tältet har hållit bra, fin kvalitet.",
               "Produkter av hög kvalitet som håller."),
        "en": ("Excellent product quality.", "The tent has held up well, great quality.",
               "High quality products that last."),
    },
    "friendly_staff": {
        "shift": 1.2,
        "fi": ("Ystävällinen ja asiantunteva henkilökunta!",
               "Myyjä oli todella avulias ja ystävällinen.",
               "Kiitos ystävällisestä palvelusta myymälässä."),
        "sv": ("Trevlig och kunnig personal!", "Säljaren var väldigt hjälpsam och vänlig.",
               "Tack för den vänliga servicen i butiken."),
        "en": ("Friendly and knowledgeable staff!",
               "The salesperson was very helpful and friendly.",
               "Thanks for the friendly service in the store."),
    },
}
THEME_SHARES: dict[str, dict[str, float]] = {
    "web": {"delivery_delay": 0.35, "checkout_problems": 0.20, "price_high": 0.20,
            "product_quality": 0.25},
    "store": {"friendly_staff": 0.40, "long_queue": 0.15, "price_high": 0.20,
              "product_quality": 0.25},
}

TICKET_SUBJECTS: dict[str, tuple[str, ...]] = {
    "fi": ("Missä tilaukseni on?", "Palautus ja hyvitys", "Viallinen tuote", "Laskun kysymys"),
    "sv": ("Var är min beställning?", "Retur och återbetalning", "Trasig produkt",
           "Fråga om faktura"),
    "en": ("Where is my order?", "Return and refund", "Faulty product", "Invoice question"),
}

ENPS_COMMENTS: dict[str, tuple[str, ...]] = {
    "good": ("Hyvä työporukka ja esihenkilö.", "Bra stämning i teamet.",
             "Great team and flexible shifts."),
    "bad": ("Liian vähän henkilökuntaa vuoroissa.", "Jatkuva kiire ja huono johtaminen.",
            "Understaffed and stressful shifts."),
}
