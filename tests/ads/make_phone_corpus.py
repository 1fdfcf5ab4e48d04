"""Generate tests/ads/data/phone_corpus.csv: synthetic, obfuscated phone strings with truth.

Kept for provenance, not run by the tests. Every number is random digits in Dutch mobile
ranges (06-1..., 06-2...) or random digits in Romanian, Bulgarian, Hungarian and Polish mobile
ranges, checked only with ``phonenumbers.is_valid_number``; the names, towns and prices in the
sentences are invented. The extractor is never imported here, so the truth is independent of it.

    .venv/bin/python tests/ads/make_phone_corpus.py      # rewrites the CSV (fixed seed)
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path

import phonenumbers

SEED = 20260514
OUT = Path(__file__).with_name("data") / "phone_corpus.csv"

NL_WORDS = ["nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"]
NL_ONE = ["een", "één", "een", "één"]
EN_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
NL_TEENS = ["tien", "elf", "twaalf", "dertien", "veertien", "vijftien", "zestien", "zeventien",
            "achttien", "negentien"]
NL_TENS = ["", "", "twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig", "tachtig",
           "negentig"]
KEYCAP = "\ufe0f\u20e3"
EMOJI_SEPS = ["💋", "🌹", "❤️", "🔥", "✨", "💦", "👉", "⭐", "🍒", "💕"]
NAMES = ["Anna", "Mia", "Lola", "Sara", "Nina", "Bella", "Eva", "Lina", "Roxy", "Kim", "Yara",
         "Zoe", "Luna", "Iris", "Maja"]
CITIES = ["Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Tilburg", "Groningen",
          "Breda", "Arnhem", "Zwolle", "Hoofddorp", "Den Bosch", "Almere", "Leiden", "Venlo"]


def nl_mobile(rng: random.Random) -> str:
    """A random valid Dutch mobile number in national form, 06-1... or 06-2..."""
    while True:
        national = "06" + rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(7))
        if phonenumbers.is_valid_number(phonenumbers.parse(national, "NL")):
            return national


FOREIGN = {  # country code -> (mobile prefixes, digits after the prefix)
    "40": (["72", "73", "74", "75", "76", "78"], 7),
    "359": (["87", "88", "89"], 7),
    "36": (["20", "30", "70"], 7),
    "48": (["50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"], 7),
}


def foreign_mobile(rng: random.Random) -> tuple[str, str]:
    """(country code, national significant number) of a random valid foreign mobile."""
    while True:
        cc = rng.choice(sorted(FOREIGN))
        prefixes, n = FOREIGN[cc]
        nsn = rng.choice(prefixes) + "".join(rng.choice("0123456789") for _ in range(n))
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+{cc}{nsn}")):
            return cc, nsn


def e164_nl(national: str) -> str:
    return "+31" + national[1:]


# -- renderers for a Dutch national number "06xxxxxxxx" ---------------------------------------


def groups(d: str, sizes: list[int]) -> list[str]:
    out, i = [], 0
    for n in sizes:
        out.append(d[i : i + n])
        i += n
    if i < len(d):
        out.append(d[i:])
    return out


def layout(rng: random.Random, d: str) -> list[str]:
    return groups(d, rng.choice([[2, 8], [2, 2, 2, 2, 2], [2, 4, 4], [2, 3, 3, 2], [3, 3, 4],
                                 [4, 3, 3], [10]]))


def plain(rng: random.Random, d: str) -> str:
    sep = rng.choice([" ", "-", ".", "/", " - ", "  "])
    return sep.join(layout(rng, d))


def spaced(rng: random.Random, d: str) -> str:
    return rng.choice([" ", "  ", "-", ".", " . "]).join(d)


def lookalike(rng: random.Random, d: str) -> str:
    chars = list(d)
    spots = [i for i, c in enumerate(chars) if c in "01"]
    for i in rng.sample(spots, k=max(1, len(spots) // 2 + rng.randint(0, 1))):
        chars[i] = rng.choice("Oo") if chars[i] == "0" else rng.choice("Il")
    word = "".join(chars)
    return rng.choice([" ", "-", "."]).join(groups(word, rng.choice([[2, 8], [2, 2, 2, 2, 2],
                                                                     [10]])))


def words(rng: random.Random, d: str, vocab: list[str], share: float) -> str:
    """Each digit as a word with probability ``share``, else as the digit."""
    out = []
    for c in d:
        if rng.random() < share:
            w = vocab[int(c)]
            if vocab is NL_WORDS and c == "1":
                w = rng.choice(NL_ONE)
            out.append(rng.choice([w, w, w.capitalize(), w.upper()]))
        else:
            out.append(c)
    # keep adjacent digits together sometimes: "nul zes 12 34 vijf 6 78"
    parts: list[str] = []
    for tok in out:
        if parts and tok.isdigit() and parts[-1].isdigit() and rng.random() < 0.6:
            parts[-1] += tok
        else:
            parts.append(tok)
    return rng.choice([" ", " ", "-", ", ", " . "]).join(parts)


def dutch_pairs(rng: random.Random, d: str) -> str:
    """'nul zes twaalf vierendertig ...': pairs read as Dutch numbers, as on a phone call."""
    out = ["nul", NL_WORDS[int(d[1])]]
    for i in range(2, 10, 2):
        a, b = int(d[i]), int(d[i + 1])
        if a == 0:
            out += ["nul", NL_WORDS[b]]
        elif a == 1:
            out.append(NL_TEENS[b])
        elif b == 0:
            out.append(NL_TENS[a])
        else:
            unit = NL_WORDS[b]
            joint = "ën" if unit.endswith("e") else "en"
            out.append(f"{unit}{joint}{NL_TENS[a]}")
    return " ".join(out)


def keycaps(rng: random.Random, d: str, share: float = 1.0) -> str:
    out = "".join(c + KEYCAP if rng.random() < share else c for c in d)
    return out if rng.random() < 0.7 else " ".join(out.split())


def math_digits(rng: random.Random, d: str) -> str:
    base = rng.choice([0x1D7CE, 0x1D7D8, 0x1D7EC, 0xFF10])  # bold, double-struck, sans, fullwidth
    return rng.choice(["", " "]).join(chr(base + int(c)) for c in d)


def emoji_sep(rng: random.Random, d: str) -> str:
    sep = rng.choice(EMOJI_SEPS)
    return rng.choice([sep, f" {sep} "]).join(groups(d, rng.choice([[2, 2, 2, 2, 2], [2, 4, 4],
                                                                     [2, 8]])))


def intl(rng: random.Random, d: str) -> str:
    nsn = d[1:]
    return rng.choice([
        f"+31{nsn}", f"+31 {nsn[0]} {nsn[1:]}", f"+31 (0){nsn[0]} {nsn[1:]}",
        f"+31 (0) {nsn[0]}-{nsn[1:5]} {nsn[5:]}", f"0031 {nsn[0]} {nsn[1:5]} {nsn[5:]}",
        f"0031{nsn}", f"+31-{nsn[0]}-{'-'.join(groups(nsn[1:], [2, 2, 2, 2]))}",
        f"+31 {' '.join(groups(nsn, [1, 2, 2, 2, 2]))}", f"wa.me/31{nsn}",
    ])


def intl_words(rng: random.Random, d: str) -> str:
    nsn = "31" + d[1:]
    head = rng.choice(["+", "plus ", "+ "])
    return head + words(rng, nsn, rng.choice([NL_WORDS, EN_WORDS]), 0.7)


def combined(rng: random.Random, d: str) -> str:
    """Two or three disguises at once."""
    kind = rng.randrange(4)
    if kind == 0:  # look-alike letters between emoji
        return emoji_sep(rng, lookalike(rng, d).replace(" ", "").replace("-", "").replace(".", ""))
    if kind == 1:  # words and keycaps
        return " ".join(NL_WORDS[int(c)] if i % 2 else c + KEYCAP for i, c in enumerate(d))
    if kind == 2:  # words, digits and emoji separators
        sep = rng.choice(EMOJI_SEPS)
        return sep.join(words(rng, d, NL_WORDS, 0.5).split())
    return " ".join(  # english words and math digits
        EN_WORDS[int(c)] if i % 3 == 0 else chr(0x1D7CE + int(c)) for i, c in enumerate(d))


NL_RENDERERS: dict[str, Callable[[random.Random, str], str]] = {
    "plain": plain,
    "spaced": spaced,
    "lookalike": lookalike,
    "nl_words": lambda r, d: words(r, d, NL_WORDS, 1.0),
    "nl_mixed": lambda r, d: words(r, d, NL_WORDS, 0.5),
    "en_words": lambda r, d: words(r, d, EN_WORDS, 1.0),
    "en_mixed": lambda r, d: words(r, d, EN_WORDS, 0.5),
    "nl_pairs": dutch_pairs,
    "keycaps": keycaps,
    "keycaps_mixed": lambda r, d: keycaps(r, d, 0.5),
    "math_digits": math_digits,
    "emoji_sep": emoji_sep,
    "intl": intl,
    "intl_words": intl_words,
    "combined": combined,
}


def foreign(rng: random.Random) -> tuple[str, str]:
    cc, nsn = foreign_mobile(rng)
    style = rng.randrange(5)
    if style == 0:
        text = f"+{cc}{nsn}"
    elif style == 1:
        text = f"+{cc} " + " ".join(groups(nsn, [3, 3, 3]))
    elif style == 2:
        text = f"00{cc} {nsn[:3]}-{nsn[3:]}"
    elif style == 3:
        text = f"+{cc} " + words(rng, nsn, EN_WORDS, 0.5)
    else:
        text = f"+{cc} " + "".join(c + KEYCAP for c in nsn)
    return text, f"+{cc}{nsn}"


TEMPLATES = [
    "{phone}",
    "Bel {phone}",
    "{name} {age}jr 💋 bel {phone} €{price} p/u",
    "Nieuw in {city}! Whatsapp: {phone} 🌹",
    "📞 {phone} ✨ {name} ({age}) ✨ 100% echt",
    "Call me {phone} only sms, {price} euro half hour",
    "Hoi ik ben {name}, {age} jaar, alleen app {phone} 😘",
    "tel: {phone}\nPrijs: {price},- per uur\nPlaats: {city}",
    "Beschikbaar 10:00-22:00 in {city}, bel {phone} (geen anoniem)",
    "💕💕 {name} 💕💕 {phone} 💕💕",
    "Sexy {name} new in town 24/7 {phone} real pics",
    "Afspraak maken? {phone}. Vanaf 12-05-2026 in {city}.",
    "{name}: {phone} / {price} eur 30 min",
    "Mijn nummer is {phone} ik ben {age}",
    "Postcode 1012 AB, {city}. Whatsapp {phone}",
]
TWO_TEMPLATES = [
    "Bel {phone} of app {phone2}",
    "{name} {phone} 💋 {name2} {phone2}",
    "Nummer 1: {phone}\nNummer 2: {phone2}",
]

NEGATIVES = [
    "€150 per uur", "150 euro half uur, 250 euro uur", "Prijs: 150,- p/u", "EUR 200 voor 1 uur",
    "€ 80 / 30 min, € 150 / 60 min, € 400 / 3 uur", "Datum 12-05-2026", "vanaf 05-12-2026",
    "2026-05-12 tot 2026-06-30", "open 10:00-22:00", "14:30 tot 02:00", "om 06:00 uur wakker",
    "Postcode 1012 AB Amsterdam", "1012AB", "3011 BD Rotterdam, 2511 CV Den Haag",
    "Anna 19 jaar", "ik ben 23, lengte 1.68, maat 36, cup C", "Leeftijd: 21 (echt)",
    "Ordernummer 2026-004512-77", "Bestelling #A12345678 verzonden", "factuur 20260512001",
    "KvK 12345678", "BTW NL123456789B01", "IBAN NL91 ABNA 0417 1643 00",
    "Tracking 3SABCD1234567", "Referentie: 99-88-77-66", "sinds 1999 in het vak, 2000 klanten",
    "jaar 2019 2020 2021 2022", "30 min 100 euro, 60 min 150 euro, 120 min 250 euro",
    "Bel mij! 💋 Echte foto's 100%", "24/7 beschikbaar", "1 2 3 4 5", "0 0 0 0 0 0",
    "Maat 38/40, 65 kg, 1,70 m", "Kamer 12, verdieping 3, huisnummer 156", "nul euro, gratis",
    "negentien jaar jong", "tweeëntwintig jaar uit Breda", "twintig minuten vanaf het station",
    "Score 10/10, 5 sterren", "Versie 2.0.26", "Kilometer 06 op de A12", "Bus 06 en tram 12",
    "12 34 56 78", "€ 06,50 per minuut", "Vlucht KL 1234 om 13:45", "Telefoon verloren, mail me",
    "Anna (19) Mia (22) Lola (25)", "Afmeting 120 x 200 cm", "Temperatuur 21.5 graden",
    "Artikel 273f Sr", "Week 19, dag 3", "Hotel kamer 0612", "Kassabon 0031-2026-15",
    "Korting 50%, van 200 voor 100", "Uurtarief 175, halfuur 100, extra 50",
    "Leeftijd 18+ alleen", "Open: ma-vr 09:00-17:00, za 10:00-16:00", "Tel. op aanvraag",
    "Zes sterren, negen punten", "Ik ben 1 van de 3 meiden", "06:00 - 23:00 dagelijks",
    "05-12-2026 10:30", "05.12.2026 om 06.30 uur", "06-12 t/m 08-12", "06 12 34 5 (onvolledig)",
    "06-nummer op aanvraag", "Vandaag 06-05 tot 12-05, 0,50 per minuut",
]


def main() -> None:
    rng = random.Random(SEED)
    rows: list[tuple[str, str]] = []

    def fill(template: str, phone: str, phone2: str = "") -> str:
        return template.format(
            phone=phone, phone2=phone2, name=rng.choice(NAMES), name2=rng.choice(NAMES),
            age=rng.randint(19, 35), price=rng.choice([80, 100, 120, 150, 200, 250]),
            city=rng.choice(CITIES))

    for kind, render in NL_RENDERERS.items():
        for _ in range(20):
            d = nl_mobile(rng)
            rows.append((fill(rng.choice(TEMPLATES), render(rng, d)), e164_nl(d)))
        del kind
    for _ in range(30):
        text, expected = foreign(rng)
        rows.append((fill(rng.choice(TEMPLATES), text), expected))
    for _ in range(30):
        d1, d2 = nl_mobile(rng), nl_mobile(rng)
        r1, r2 = rng.sample(sorted(NL_RENDERERS), 2)
        text = fill(rng.choice(TWO_TEMPLATES), NL_RENDERERS[r1](rng, d1),
                    NL_RENDERERS[r2](rng, d2))
        rows.append((text, f"{e164_nl(d1)};{e164_nl(d2)}"))
    rows += [(text, "") for text in NEGATIVES]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "expected"])
        writer.writerows(rows)
    print(f"{len(rows)} rows ({len(NEGATIVES)} negatives) -> {OUT}")


if __name__ == "__main__":
    main()
