"""A synthetic ad site on loopback, for the crawler tests and the demo.

Two layouts of the same kind of site, so the one generic spider is shown to work from the
source YAML alone: "voorbeeldsite" under ``/a/`` (CSS selectors) and "proefadvertenties" under
``/b/`` (different markup, XPath selectors). Each has paginated listings, one ad linked from a
listing but living under a path that robots.txt disallows, an off-site link (same server,
another host name) that must never be followed, and images reused across ads.

The server counts every requested path, so tests can assert "never requested" and "exactly
once". It logs nothing. Only synthetic ads from ``zichtbaar.ads.synth`` are ever served.
"""

from __future__ import annotations

import html
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

LAYOUTS = ("voorbeeldsite", "proefadvertenties")
PREFIX = {"voorbeeldsite": "a", "proefadvertenties": "b"}
HIDDEN_DIR = {"voorbeeldsite": "private", "proefadvertenties": "verborgen"}
OFFSITE_HOST = "localhost"  # the same server under a host name no source allows
BUNDLED_PORT = 8081  # the port written in the bundled source YAML files


class SynthAdLike(Protocol):
    """The fields of ``zichtbaar.ads.synth.SynthAd`` this site renders."""

    ad_id: str
    site: str
    title: str
    text: str
    phone_raw: str
    email: str
    city: str
    age: int | None
    posted: Any  # datetime.date
    image_seeds: tuple[int, ...]
    image_variants: tuple[int, ...]  # per image: 0 = the original, n = a re-encoded copy


@dataclass
class SiteInfo:
    """What was written: the truth the tests compare a crawl with."""

    root: Path
    port: int | None
    layouts: tuple[str, ...]
    ad_paths: dict[str, str] = field(default_factory=dict)  # ad_id -> path, crawlable only
    hidden_paths: dict[str, str] = field(default_factory=dict)  # ad_id -> robots-disallowed
    listing_paths: dict[str, list[str]] = field(default_factory=dict)  # layout -> paths
    image_paths: set[str] = field(default_factory=set)
    offsite_paths: tuple[str, ...] = ()
    ads: dict[str, Any] = field(default_factory=dict)  # ad_id -> SynthAd

    def url(self, path: str) -> str:
        if self.port is None:
            raise ValueError("build_site(port=...) was not given")
        return f"http://127.0.0.1:{self.port}{path}"

    def ads_in(self, layout: str) -> dict[str, str]:
        """ad_id -> path of the crawlable ads of one layout."""
        prefix = f"/{PREFIX[layout]}/"
        return {k: v for k, v in self.ad_paths.items() if v.startswith(prefix)}

    def rewrite_ad(self, ad: SynthAdLike) -> None:
        """Write one ad's page again from a changed ad (same ``ad_id``, e.g. a new phone)."""
        path = self.ad_paths.get(ad.ad_id) or self.hidden_paths[ad.ad_id]
        layout = _layout_of(path)
        _write(self.root, path, _RENDER_AD[layout](ad))
        self.ads[ad.ad_id] = ad

    def source_yaml(self, layout: str, **overrides: Any) -> str:
        """The bundled source YAML pointed at this server, optionally with other values."""
        if self.port is None:
            raise ValueError("build_site(port=...) was not given")
        return source_yaml(layout, self.port, **overrides)


def source_yaml(layout: str, port: int, **overrides: Any) -> str:
    """The bundled source file of ``layout`` with its port replaced (and keys overridden)."""
    from importlib.resources import files

    text = (files("zichtbaar.watch") / "data" / "sources" / f"{layout}.yaml").read_text()
    text = text.replace(f"127.0.0.1:{BUNDLED_PORT}", f"127.0.0.1:{port}")
    if not overrides:
        return text
    import yaml

    data = yaml.safe_load(text)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _layout_of(path: str) -> str:
    prefix = path.split("/")[1]
    return next(k for k, v in PREFIX.items() if v == prefix)


def _write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _description(ad: SynthAdLike) -> str:
    text = ad.text
    if ad.phone_raw and ad.phone_raw not in text:
        text += f"\nBel of app: {ad.phone_raw}"
    if ad.email and ad.email not in text:
        text += f"\nMail: {ad.email}"
    return text


def _images(ad: SynthAdLike) -> list[tuple[str, int, int]]:
    """(path, seed, variant) of each image of an ad; re-encoded copies get their own file."""
    variants = tuple(getattr(ad, "image_variants", ()) or ())
    out = []
    for index, seed in enumerate(ad.image_seeds):
        variant = variants[index] if index < len(variants) else 0
        name = f"{seed}.png" if not variant else f"{seed}v{variant}.png"
        out.append((f"/img/{name}", seed, variant))
    return out


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_e(line)}</p>" for line in text.splitlines() if line.strip())


# --- layout "voorbeeldsite" (/a/): CSS selectors -------------------------------------------

def _a_ad(ad: SynthAdLike) -> str:
    photos = "".join(f'<img src="{path}" alt="">' for path, _, _ in _images(ad))
    age = f'<span class="age">{_e(ad.age)} jaar</span>' if ad.age else ""
    return (
        "<!doctype html><html lang=nl><head><meta charset=utf-8>"
        f"<title>{_e(ad.title)} | Voorbeeldsite</title></head><body>"
        '<nav><a href="/a/page1.html">Alle advertenties</a></nav>'
        f'<main><h2 class="name">{_e(ad.title)}</h2>'
        f'<p class="meta"><time datetime="{ad.posted.isoformat()}">{_e(ad.posted)}</time> '
        f'<span class="city">{_e(ad.city)}</span> {age}</p>'
        f'<div id="description">{_paragraphs(_description(ad))}</div>'
        f'<div class="photos">{photos}</div></main></body></html>\n'
    )


def _a_listing(number: int, links: Sequence[tuple[str, str]], has_next: bool) -> str:
    rows = "".join(f'<article><a class="title" href="{_e(href)}">{_e(title)}</a></article>'
                   for href, title in links)
    nxt = f'<a class="next" href="page{number + 1}.html">Volgende</a>' if has_next else ""
    return (
        "<!doctype html><html lang=nl><head><meta charset=utf-8>"
        f"<title>Voorbeeldsite, pagina {number}</title></head><body>"
        f'<h1>Advertenties</h1><div class="results">{rows}</div>'
        f'<div class="pager">{nxt}</div></body></html>\n'
    )


# --- layout "proefadvertenties" (/b/): other markup, XPath selectors ------------------------

def _b_ad(ad: SynthAdLike) -> str:
    figures = "".join(f'<figure><img data-src="{path}" src="/static/blank.gif"></figure>'
                      for path, _, _ in _images(ad))
    return (
        "<!doctype html><html lang=nl><head><meta charset=utf-8>"
        f'<meta itemprop="datePosted" content="{ad.posted.isoformat()}">'
        f"<title>{_e(ad.title)}</title></head><body>"
        '<article class="advertentie">'
        f"<header><h1>{_e(ad.title)}</h1></header>"
        f'<dl><dt>Plaats</dt><dd class="plaats">{_e(ad.city)}</dd>'
        f'<dt>Leeftijd</dt><dd class="leeftijd">{_e(ad.age or "")}</dd></dl>'
        f'<section class="tekst">{_paragraphs(_description(ad))}</section>'
        f'<div class="fotos">{figures}</div></article></body></html>\n'
    )


def _b_listing(number: int, links: Sequence[tuple[str, str]], has_next: bool) -> str:
    rows = "".join(f'<li><span class="kop"><a rel="bookmark" href="{_e(href)}">{_e(title)}'
                   "</a></span></li>" for href, title in links)
    nxt = f'<link rel="next" href="/b/overzicht-{number + 1}.html">' if has_next else ""
    return (
        "<!doctype html><html lang=nl><head><meta charset=utf-8>"
        f"<title>Proefadvertenties {number}</title>{nxt}</head><body>"
        f'<ul id="ads">{rows}</ul></body></html>\n'
    )


_RENDER_AD = {"voorbeeldsite": _a_ad, "proefadvertenties": _b_ad}


def _listing_path(layout: str, number: int) -> str:
    if layout == "voorbeeldsite":
        return f"/a/page{number}.html"
    return f"/b/overzicht-{number}.html"


def _render_listing(layout: str, number: int, links: Sequence[tuple[str, str]],
                    has_next: bool) -> str:
    if layout == "voorbeeldsite":
        return _a_listing(number, links, has_next)
    return _b_listing(number, links, has_next)


def build_site(root: Path, ads: Iterable[SynthAdLike], *, layouts: Sequence[str] = LAYOUTS,
               port: int | None = None, per_page: int = 5) -> SiteInfo:
    """Write the site for ``ads`` (each ad goes to the layout named by its ``site``).

    ``port`` is the port the site will be served on: the off-site trap links point at the
    same server under another host name, so a test can see that they are never followed.
    """
    from zichtbaar.ads.synth import image_png

    root.mkdir(parents=True, exist_ok=True)
    info = SiteInfo(root=root, port=port, layouts=tuple(layouts))
    trap_port = port or 9  # discard port when the server's port is not known
    for layout in layouts:
        if layout not in PREFIX:
            raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
        prefix = PREFIX[layout]
        mine = [ad for ad in ads if ad.site == layout]
        links: list[tuple[str, str]] = []
        for index, ad in enumerate(mine):
            info.ads[ad.ad_id] = ad
            if index == 0:  # linked from a listing, but robots.txt says keep out
                path = f"/{prefix}/{HIDDEN_DIR[layout]}/{ad.ad_id}.html"
                info.hidden_paths[ad.ad_id] = path
            else:
                path = f"/{prefix}/ad/{ad.ad_id}.html"
                info.ad_paths[ad.ad_id] = path
            _write(root, path, _RENDER_AD[layout](ad))
            links.append((path, ad.title))
            for image, seed, variant in _images(ad):
                if image not in info.image_paths:
                    target = root / image.lstrip("/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(image_png(seed, variant=variant))
                    info.image_paths.add(image)
        offsite = f"/offsite/{prefix}-trap.html"
        info.offsite_paths += (offsite,)
        _write(root, offsite, "<!doctype html><title>never fetched</title>\n")
        links.insert(1, (f"http://{OFFSITE_HOST}:{trap_port}{offsite}", "Elders"))
        pages = [links[i:i + per_page] for i in range(0, len(links), per_page)] or [[]]
        info.listing_paths[layout] = []
        for number, chunk in enumerate(pages, start=1):
            path = _listing_path(layout, number)
            info.listing_paths[layout].append(path)
            _write(root, path, _render_listing(layout, number, chunk, number < len(pages)))
    disallow = "".join(f"Disallow: /{PREFIX[layout]}/{HIDDEN_DIR[layout]}/\n"
                       for layout in LAYOUTS)
    (root / "robots.txt").write_text(f"User-agent: *\n{disallow}\n")
    return info


# --- server ---------------------------------------------------------------------------------

class CountingServer(ThreadingHTTPServer):
    """Serves ``root`` and counts every requested path (query string dropped)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path) -> None:
        self.root = root
        self.requests: Counter[str] = Counter()
        self.user_agents: set[str] = set()
        self.lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Silent too: a crawler that hangs up early is not news (the stdlib prints a
        traceback to stderr)."""

    def count(self, path: str) -> int:
        with self.lock:
            return self.requests[path]

    def requested(self) -> Counter[str]:
        with self.lock:
            return Counter(self.requests)


class _Handler(SimpleHTTPRequestHandler):
    server: CountingServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(args[2].root), **kwargs)

    def send_head(self) -> Any:
        with self.server.lock:
            self.server.requests[urlsplit(self.path).path] += 1
            self.server.user_agents.add(self.headers.get("User-Agent", ""))
        return super().send_head()

    def list_directory(self, path: Any) -> Any:
        self.send_error(404)
        return None

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the tests and the demo read the counts, not a log."""


def serve(root: Path, port: int = 0) -> tuple[CountingServer, threading.Thread, int]:
    """Serve ``root`` on 127.0.0.1 in a daemon thread; stop with ``server.shutdown()``."""
    server = CountingServer(("127.0.0.1", port), root)
    thread = threading.Thread(target=server.serve_forever, name="zichtbaar-testsite",
                              daemon=True)
    thread.start()
    return server, thread, server.server_address[1]


def stop(server: CountingServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


__all__ = ["LAYOUTS", "CountingServer", "SiteInfo", "build_site", "serve", "source_yaml",
           "stop"]
