"""Deterministic synthetic ad corpus with network truth.

Used by the tests, the bench, the demo and the loopback test site: no real ad, person or number
ever enters the repository. The corpus carries the traps that break naive linking:

* every ad of a site repeats that site's long boilerplate, so plain text similarity would merge
  unrelated independent advertisers;
* a booking-agency number (the hub) appears next to the own number in many independents' ads,
  and a stock photo in a few, so naive identifier linking would merge them too;
* networks are joined by a shared phone, by reused images across several phones, or by a
  template text with varying name, age and city slots, and they move between cities.

Names are invented (syllable pairs), phones are random 06-1x / 06-2x numbers, e-mail addresses
use the reserved ``.invalid`` domain. Generation is plain string assembly (≥ 50k ads/s).
"""

from __future__ import annotations

import gc
import io
import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np

DEFAULT_START = date(2026, 1, 5)
DEFAULT_SITES = ("voorbeeldsite", "proefadvertenties")
#: Seed of the stock photo some independents use (an image hub the linker must prune).
STOCK_IMAGE_SEED = 7
#: Linking modes of a network: one shared phone; several phones joined only by reused images;
#: several phones joined only by a template text.
MODES = ("phone", "images", "template")

_SYL1 = ("Ana", "Beli", "Cori", "Dela", "Eli", "Fio", "Gia", "Hali", "Isa", "Jola", "Kali",
         "Lu", "Mira", "Nel", "Ori", "Pia", "Quin", "Rosa", "Sela", "Tia", "Uma", "Vela",
         "Wen", "Xa", "Yla", "Zo")
_SYL2 = ("ra", "na", "lie", "sa", "ya", "ne", "tte", "mi", "ka", "lin", "ssa", "dy")
NAMES = tuple(a + b for a in _SYL1 for b in _SYL2)
CITIES = ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Tilburg",
          "Almere", "Breda", "Nijmegen", "Arnhem", "Haarlem", "Enschede", "Apeldoorn",
          "Amersfoort", "Zaanstad", "Zwolle", "Leiden", "Maastricht", "Dordrecht", "Alkmaar",
          "Venlo", "Deventer", "Delft", "Leeuwarden", "Heerlen", "Den Bosch", "Emmen", "Hengelo",
          "Roosendaal")
_WORDS_TEXT = """zon zee strand bos wandelen koken dansen muziek film boek reizen fiets
kat hond thee koffie wijn taart lente zomer herfst winter avond ochtend regen sterren maan
rustig gezellig zacht warm lief vrolijk slim grappig sportief creatief nieuwsgierig eerlijk
zorgzaam spontaan romantisch elegant stijlvol natuurlijk blond donker krullen sproeten lach
ogen handen stem geur zijde kant parfum kaars bad massage olie muziekje jazz pop rock salsa
tango yoga pilates zwemmen fitness schilderen tekenen fotografie tuinieren bakken lezen
schrijven gamen puzzels schaak tennis hockey voetbal paard zeilen surfen skiën kamperen
picknick terras markt museum theater concert festival camping hotel appartement studio
balkon tuin keuken bank kussen deken pyjama sokken trui jurk rok laarzen sneakers hoed
sjaal ketting ring oorbel tattoo piercing make-up nagels haar lippen glimlach knuffel
kus fluister geheim droom wens verlangen avontuur plezier genieten ontspannen verwennen
aandacht tijd rust ruimte sfeer smaak kleur licht donkerblauw rood groen goud zilver"""
_WORDS = tuple(_WORDS_TEXT.split())
_INDEP_SENTENCES = (
    "Hoi, ik ben {name} en ik ben {age} jaar.",
    "Ik woon zelf in {city} en ontvang in mijn eigen appartement.",
    "Ik werk zelfstandig en bepaal zelf mijn tijden.",
    "Je kunt me bellen tussen tien en zes.",
    "Ik hou van {w1} en {w2}.",
    "Mijn hobby's zijn {w1}, {w2} en {w3}.",
    "Ik ben {w1}, {w2} en altijd goed gemutst.",
    "Heb je zin in een {w1} avond?",
    "Stuur me eerst een berichtje met je naam.",
    "Ik neem de tijd voor je, haast is niet nodig.",
    "Parkeren kan gratis voor de deur.",
    "Ik spreek Nederlands, Engels en een beetje Duits.",
    "Na een lange dag hou ik van {w1} en {w2}.",
    "Ik ben een {w1} vrouw met {w2} {w3}.",
    "Ook voor een kopje {w1} ben je welkom.",
    "Ik ben geen haastig type.",
    "Wie weet tot snel!",
    "Bij mij is alles {w1} en {w2}.",
    "In het weekend ben ik er soms niet, kijk op mijn agenda.",
    "Ik draag graag {w1} en {w2}.",
)
_NET_SENTENCES = (
    "Hoi schatjes, ik ben {name}, {age} jaar.",
    "Nieuw hier, ik ben {name} en {age} jaar jong.",
    "Dit is {name}, {age} jaar, beschikbaar in {city}.",
    "Bezoek mij in {city}, vandaag nog mogelijk.",
    "Onze dames ontvangen in {city} op een discreet adres.",
)
_SITE_BOILERPLATE = (
    "Welkom op mijn profiel bij {Site}! Bel of app voor een afspraak. Discretie gegarandeerd. "
    "Alle adverteerders op {Site} zijn 18 jaar of ouder en adverteren op eigen initiatief. "
    "{Site} is niet verantwoordelijk voor de inhoud van advertenties en bemiddelt niet. "
    "Vermeld bij contact dat je mij op {Site} hebt gevonden, dan weet ik waar je vandaan komt. "
    "Respecteer de huisregels: geen anonieme nummers, geen berichten na middernacht en "
    "annuleren graag minstens een uur van tevoren. Meld misbruik via het formulier onderaan de "
    "pagina. Veilig en vertrouwd adverteren sinds jaren op {Site}, de nummer een van Nederland.",
    "Je bekijkt een advertentie op {Site}. Neem contact op via telefoon of app. Op {Site} "
    "adverteren alleen meerderjarigen en iedere adverteerder is zelf verantwoordelijk voor de "
    "eigen tekst. Zeg bij het bellen dat je via {Site} komt. Let op je eigen veiligheid en "
    "maak nooit geld over voordat je iemand hebt ontmoet. {Site} controleert advertenties "
    "steekproefsgewijs en verwijdert advertenties die niet aan de voorwaarden voldoen. "
    "Vragen over de site? Lees de veelgestelde vragen onderaan deze pagina van {Site}.",
)
_HUB_LINES = ("Ook te boeken via bureau Zonnestraal: {hub}.", "Reserveren kan via de centrale "
              "lijn {hub}.")
_A_PHRASES = ("100% echt en betrouwbaar.", "Echte foto's, geen nep!", "Jonge meid, net 18.",
              "Lief studentje, klein en tenger.", "Roemeense schoonheid, 100% echt.",
              "Verse meid, real pics.")
_B_PHRASES = ("Dag en nacht beschikbaar, 24/7.", "Onze meiden zijn altijd beschikbaar.",
              "Alles mag bij mij.", "Twee meiden tegelijk kan ook.", "👑 💗")
_MOVEMENT = ("Nieuw in {city}!", "Alleen deze week in {city}.", "Laatste dagen in {city}, "
             "dus wees er snel bij.", "Net aangekomen in {city} ✈.")
_DIGIT_WORDS = ("nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen")
_KEYCAP = "\ufe0f\u20e3"
_VARIANTS = (0, 0, 1, 2)


def _pick(rng: random.Random, seq: Sequence[Any]) -> Any:
    """``rng.choice`` without its rejection sampling: 3x faster, bias < 2^-40."""
    return seq[int(rng.random() * len(seq))]


class SynthAd(NamedTuple):
    """One synthetic ad with its truth (a NamedTuple: a million of them build 10x faster).

    ``network`` is None for independents; ``advertiser`` is the true advertiser (the network id,
    or the independent's own id), which is what pairwise linking precision and recall compare
    against. ``extra_phones`` holds other numbers in the text (the booking-agency hub).
    """

    ad_id: str
    network: str | None
    site: str
    title: str
    text: str
    phone_raw: str
    phone_e164: str
    email: str | None
    city: str
    age: int
    posted: date
    image_seeds: tuple[int, ...]
    advertiser: str = ""
    name: str = ""
    phone_obscured: bool = False
    extra_phones: tuple[str, ...] = ()
    image_variants: tuple[int, ...] = ()
    mode: str | None = None


def plan(total_ads: int) -> tuple[int, int]:
    """(networks, independents) giving about ``total_ads`` ads, ~30 % of them from networks."""
    networks = max(1, round(total_ads * 0.3 / 22))
    independents = max(1, round(total_ads * 0.7 / 2.17))
    return networks, independents


def generate(*, networks: int, independents: int, seed: int,
             sites: Sequence[str] = DEFAULT_SITES, start: date = DEFAULT_START,
             hub_share: float = 0.3, days: int = 60) -> list[SynthAd]:
    """Generate a corpus, sorted by posting date (the order a crawler would see it)."""
    gen = _Generator(seed, tuple(sites), start, hub_share, days)
    rows: list[tuple] = []
    collecting = gc.isenabled()
    gc.disable()  # millions of small acyclic tuples: the cycle collector only costs time here
    try:
        for n in range(networks):
            gen.network(n, rows)
        for n in range(independents):
            gen.independent(n, rows)
        rows.sort(key=lambda r: (r[0], r[1]))
        return [SynthAd(f"ad{i:07d}", *row[2:]) for i, row in enumerate(rows)]
    finally:
        if collecting:
            gc.enable()


class _Generator:
    def __init__(self, seed: int, sites: tuple[str, ...], start: date, hub_share: float,
                 days: int) -> None:
        self.rng = random.Random(seed)
        self.sites = sites
        self.start = start
        self.days = days
        self.hub_share = hub_share
        self.used_phones: set[str] = set()
        self.next_seed = 1000 + (seed % 1000) * 1_000_000
        self.dates = [start + timedelta(days=d) for d in range(days + 40)]
        self.boiler = {s: _SITE_BOILERPLATE[i % len(_SITE_BOILERPLATE)].format(Site=s.title())
                       for i, s in enumerate(sites)}
        self.hub = self.phone()
        self.tick = 0

    def phone(self) -> str:
        rng = self.rng
        while True:
            e164 = f"+316{_pick(rng, '12')}{int(rng.random() * 10**7):07d}"
            if e164 not in self.used_phones:
                self.used_phones.add(e164)
                return e164

    def seeds(self, k: int) -> list[int]:
        out = list(range(self.next_seed, self.next_seed + k))
        self.next_seed += k
        return out

    def words(self, k: int) -> str:
        rnd, n = self.rng.random, len(_WORDS)
        return " ".join([_WORDS[int(rnd() * n)] for _ in range(k)])

    def own_text(self, name: str, age: int, city: str) -> str:
        rng = self.rng
        parts = [s.format(name=name, age=age, city=city, w1=_pick(rng, _WORDS),
                          w2=_pick(rng, _WORDS), w3=_pick(rng, _WORDS))
                 for s in rng.sample(_INDEP_SENTENCES, 4)]
        parts.append(self.words(7).capitalize() + ".")
        rng.shuffle(parts)
        return " ".join(parts)

    def extras(self, city: str, p_a: float, p_b: float, p_move: float) -> str:
        rnd = self.rng.random
        out = ""
        if rnd() < p_a:
            out = _A_PHRASES[int(rnd() * len(_A_PHRASES))]
        if rnd() < p_b:
            out += " " + _B_PHRASES[int(rnd() * len(_B_PHRASES))]
        if rnd() < p_move:
            out += " " + _MOVEMENT[int(rnd() * len(_MOVEMENT))].format(city=city)
        return out.strip()

    def network(self, n: int, rows: list[tuple]) -> None:
        rng = self.rng
        mode = MODES[n % len(MODES)]
        net = f"net{n:05d}"
        women = 2 + int(rng.random() * 5)
        circuit = rng.sample(CITIES, 4)
        shared_phone = self.phone()
        shared_images = self.seeds(2)
        email = f"{net}@agenda.invalid" if rng.random() < 0.3 and mode == "phone" else None
        template_parts = [_pick(rng, _NET_SENTENCES),
                          self.words(8).capitalize() + ".",
                          "Bel voor " + self.words(2) + " een afspraak.",
                          self.words(9).capitalize() + ".",
                          "Kom langs in {city}, " + self.words(5) + "."]
        template = " ".join(template_parts)
        for w in range(women):
            name = _pick(rng, NAMES)
            age = _pick(rng, (18, 18, 19, 19, 20, 21, 22, 23, 24, 26))
            phone = shared_phone if mode == "phone" else self.phone()
            own_images = self.seeds(3)
            own = self.own_text(name, age, circuit[0]) if mode == "images" else ""
            day = int(rng.random() * self.days)
            city = circuit[w % 4]
            for k in range(3 + int(rng.random() * 6)):
                if rng.random() < 0.5:
                    city = _pick(rng, circuit)
                day += 1 + int(rng.random() * 4)
                if mode == "images":
                    body = own
                    images = [shared_images[0] if k == 0 else _pick(rng, shared_images),
                              _pick(rng, own_images)]
                else:
                    if rng.random() < 0.25:  # copies drift: one sentence left out
                        drop = 1 + int(rng.random() * (len(template_parts) - 1))
                        body = " ".join(template_parts[:drop] + template_parts[drop + 1:])
                    else:
                        body = template
                    body = body.format(name=name, age=age, city=city)
                    images = own_images[:1] if rng.random() < 0.5 else own_images[1:3]
                    if mode == "phone" and rng.random() < 0.3:
                        images.append(shared_images[0])
                site = _pick(rng, self.sites)
                self.emit(rows, day, net, net, site, name, age, city, phone, email, body,
                          images, extras=self.extras(city, 0.6, 0.4, 0.15), hub=False,
                          mode=mode)

    def independent(self, n: int, rows: list[tuple]) -> None:
        rng = self.rng
        who = f"ind{n:06d}"
        name = _pick(rng, NAMES)
        age = 21 + int(rng.random() * 25)
        city = _pick(rng, CITIES)
        phone = self.phone()
        email = f"{name.lower()}.{n}@post.invalid" if rng.random() < 0.2 else None
        own = self.own_text(name, age, city)
        images = self.seeds(3)
        site = _pick(rng, self.sites)
        hub = rng.random() < self.hub_share
        stock = rng.random() < 0.03
        day = int(rng.random() * self.days)
        for _ in range(_pick(rng, (1, 1, 2, 2, 3, 4))):
            day += 1 + int(rng.random() * 10)
            ad_city = city if rng.random() < 0.85 else _pick(rng, CITIES)
            ad_images = [images[int(rng.random() * 3)]] if rng.random() < 0.5 else images[:2]
            if stock:
                ad_images.append(STOCK_IMAGE_SEED)
            self.emit(rows, day, None, who, site, name, age, ad_city, phone, email, own,
                      ad_images, extras=self.extras(ad_city, 0.15, 0.2, 0.4), hub=hub,
                      mode=None)

    def emit(self, rows: list[tuple], day: int, network: str | None, advertiser: str,
             site: str, name: str, age: int, city: str, phone: str, email: str | None,
             body: str, images: list[int], *, extras: str, hub: bool, mode: str | None) -> None:
        rng = self.rng
        raw, obscured = obfuscate(phone, rng)
        lines = [body]
        if extras:
            lines.append(extras)
        lines.append(f"Bel of app {raw}.")
        extra: tuple[str, ...] = ()
        if hub:
            hub_raw, _ = obfuscate(self.hub, rng, plain=True)
            lines.append(_pick(rng, _HUB_LINES).format(hub=hub_raw))
            extra = (self.hub,)
        if email:
            lines.append(f"Mail: {email}")
        lines.append(self.boiler[site])
        variants = tuple([_VARIANTS[int(rng.random() * 4)] for _ in images])
        title = f"{name} ({age}) in {city}"
        self.tick += 1
        rows.append((day, self.tick, network, site, title, " ".join(lines), raw, phone, email,
                     city, age, self.dates[min(day, len(self.dates) - 1)], tuple(images),
                     advertiser, name, obscured, extra, variants, mode))


def obfuscate(e164: str, rng: random.Random, *, plain: bool = False) -> tuple[str, bool]:
    """Write a +316 number the way ads do; returns (text, whether it is obscured)."""
    national = "0" + e164[3:]
    d = national
    style = int(rng.random() * (6 if plain else 12))
    if style == 0:
        return d, False
    if style == 1:
        return f"{d[:2]}-{d[2:]}", False
    if style == 2:
        return " ".join((d[:2], d[2:4], d[4:6], d[6:8], d[8:])), False
    if style == 3:
        return f"+31 6 {d[2:6]} {d[6:]}", False
    if style == 4:
        return f"0031 6 {d[2:6]} {d[6:]}", False
    if style == 5:
        return ".".join((d[:2], d[2:4], d[4:6], d[6:8], d[8:])), False
    if style == 6:
        return " ".join(_DIGIT_WORDS[int(c)] for c in d), True
    if style == 7:
        return d.replace("0", "O").replace("1", "I")[:2] + " " + \
            d.replace("0", "O").replace("1", "I")[2:], True
    if style == 8:
        return "nul zes " + " ".join((d[2:6], d[6:])), True
    if style == 9:
        return "*".join(d), True
    if style == 10:
        return "".join(c + _KEYCAP for c in d), True
    return f"zero six {d[2:4]} {d[4:6]} {d[6:8]} {d[8:]}", True


def fake_image_hash(seed: int, variant: int = 0) -> str:
    """A 64-bit stand-in for ``image_hash(image_png(seed, variant=variant))``.

    Computing real pHashes for a million synthetic images would dominate a linking bench, so
    benches and big tests use this: distinct seeds give unrelated hashes, a variant flips
    ``variant`` bits (a re-encoded copy). Small tests use the real images.
    """
    x = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    for i in range(variant):
        x ^= 1 << ((seed * 7 + i * 13) % 64)
    return f"{x:016x}"


def image_png(seed: int, size: int = 64, variant: int = 0) -> bytes:
    """A deterministic random-ish picture: same seed, same pHash; variants are re-encodings.

    Low-frequency blocks dominate, so pHash tells seeds apart; a variant adds faint noise and a
    tiny brightness shift, which moves the pHash by a few bits at most.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(base, "RGB").resize((size, size), Image.Resampling.BICUBIC)
    if variant:
        noise_rng = np.random.default_rng([seed, variant])
        pixels = np.asarray(image, dtype=np.int16)
        pixels = pixels + noise_rng.integers(-3, 4, size=pixels.shape) + variant
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
