"""A crawled site as data: the source YAML, validated before anything is fetched.

A source names its pages, the selectors that find ads in them, how politely to fetch them and
the legal basis for doing so at all. Every error names the key at fault in plain English, so
an administrator editing YAML in the browser or on disk can fix it without reading code.

Selectors are CSS (with Scrapy's ``::text`` and ``::attr(name)``) or XPath prefixed with
``xpath:`` (``css:`` is accepted as an explicit prefix too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml
from parsel import Selector

MAX_YAML_BYTES = 64 * 1024
DEFAULT_MAX_PAGES = 500
DEFAULT_MAX_DEPTH = 100  # each listing page followed through "next" is one level deeper
_PROBE = Selector(text="<html><body><p>probe</p></body></html>")


class SourceError(ValueError):
    """The source configuration is unusable; the message names the key (also in ``key``)."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


def _split(spec: str) -> tuple[str, str]:
    """(kind, expression) of a selector spec."""
    stripped = spec.strip()
    for prefix in ("xpath:", "css:"):
        if stripped.lower().startswith(prefix):
            return prefix[:-1], stripped[len(prefix):].strip()
    return "css", stripped


def select(selector: Selector, spec: str) -> list[str]:
    """Every string ``spec`` selects in ``selector`` (a parsel/Scrapy Selector or Response)."""
    kind, expression = _split(spec)
    found = selector.xpath(expression) if kind == "xpath" else selector.css(expression)
    return [value for value in found.getall() if isinstance(value, str)]


def check_selector(spec: object, key: str) -> str:
    """The spec unchanged, or SourceError naming ``key`` when it does not compile."""
    if not isinstance(spec, str) or not spec.strip():
        raise SourceError(f"'{key}' must be a non-empty selector string.")
    kind, expression = _split(spec)
    if not expression:
        raise SourceError(f"'{key}' has a '{kind}:' prefix but no expression.")
    try:
        select(_PROBE, spec)
    except Exception as exc:  # cssselect and lxml raise several unrelated types
        raise SourceError(
            f"'{key}': unknown selector syntax {spec!r} (use CSS, optionally with ::text or "
            f"::attr(name), or XPath prefixed with 'xpath:'): {exc}") from exc
    return spec.strip()


@dataclass(frozen=True)
class Rate:
    concurrency: int = 1
    delay_s: float = 1.0


@dataclass(frozen=True)
class ListingSelectors:
    ad_links: str
    next_page: str = ""


@dataclass(frozen=True)
class AdSelectors:
    text: str
    title: str = ""
    images: str = ""
    posted: str = ""
    city: str = ""
    age: str = ""


@dataclass(frozen=True)
class SourceConfig:
    """One site: where to start, what to follow, what to keep, and why we may."""

    name: str
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    listing: ListingSelectors
    ad: AdSelectors
    legal_basis: str
    retention_days: int = 90
    rate: Rate = field(default_factory=Rate)
    max_pages: int = DEFAULT_MAX_PAGES
    max_depth: int = DEFAULT_MAX_DEPTH

    # --- loading --------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, text: str) -> SourceConfig:
        if len(text.encode()) > MAX_YAML_BYTES:
            raise SourceError(f"The source file is larger than {MAX_YAML_BYTES // 1024} KB.")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SourceError(f"The source is not valid YAML: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object) -> SourceConfig:
        if not isinstance(data, Mapping):
            raise SourceError("The source must be a YAML mapping of keys to values "
                              "(name, start_urls, allowed_domains, listing, ad, legal_basis).")
        known = {"name", "start_urls", "allowed_domains", "listing", "ad", "legal_basis",
                 "retention_days", "rate", "max_pages", "max_depth"}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise SourceError(f"Unknown key(s): {', '.join(unknown)}.")

        name = _text(data, "name")
        if not all(c.isalnum() or c in "-_" for c in name) or len(name) > 64:
            raise SourceError("'name' may contain only letters, digits, '-' and '_' "
                              "(at most 64 characters).")
        legal_basis = data.get("legal_basis")
        if not isinstance(legal_basis, str) or not legal_basis.strip():
            raise SourceError("'legal_basis' is missing or empty: crawling refuses without it "
                              "(name the DPIA and the purpose).", key="legal_basis")
        if len(legal_basis) > 300:
            raise SourceError("'legal_basis' is longer than 300 characters.")

        domains = tuple(d.lower() for d in _strings(data, "allowed_domains"))
        for domain in domains:
            if "/" in domain or ":" in domain:
                raise SourceError(f"'allowed_domains': {domain!r} must be a bare host name "
                                  "(no scheme, port or path).")
        start_urls = _strings(data, "start_urls")
        for url in start_urls:
            parts = urlsplit(url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise SourceError(f"'start_urls': {url!r} is not an http(s) URL.")
            if not _host_allowed(parts.hostname, domains):
                raise SourceError(f"'start_urls': {url!r} is outside allowed_domains "
                                  f"({', '.join(domains)}).")

        listing = _section(data, "listing", {"ad_links", "next_page"})
        ad = _section(data, "ad", {"text", "title", "images", "posted", "city", "age"})
        rate = data.get("rate") or {}
        if not isinstance(rate, Mapping):
            raise SourceError("'rate' must be a mapping with concurrency and delay_s.")
        return cls(
            name=name,
            start_urls=tuple(start_urls),
            allowed_domains=domains,
            listing=ListingSelectors(
                ad_links=check_selector(listing.get("ad_links"), "listing.ad_links"),
                next_page=_optional_selector(listing, "next_page", "listing"),
            ),
            ad=AdSelectors(
                text=check_selector(ad.get("text"), "ad.text"),
                **{k: _optional_selector(ad, k, "ad")
                   for k in ("title", "images", "posted", "city", "age")},
            ),
            legal_basis=legal_basis.strip(),
            retention_days=_number(data, "retention_days", 90, int, minimum=1),
            rate=Rate(
                concurrency=_number(rate, "concurrency", 1, int, minimum=1, key="rate."),
                delay_s=_number(rate, "delay_s", 1.0, float, minimum=0, key="rate."),
            ),
            max_pages=_number(data, "max_pages", DEFAULT_MAX_PAGES, int, minimum=1),
            max_depth=_number(data, "max_depth", DEFAULT_MAX_DEPTH, int, minimum=1),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe; ``from_dict(to_dict())`` gives the same config."""
        return {
            "name": self.name,
            "start_urls": list(self.start_urls),
            "allowed_domains": list(self.allowed_domains),
            "listing": {k: v for k, v in vars(self.listing).items() if v},
            "ad": {k: v for k, v in vars(self.ad).items() if v},
            "legal_basis": self.legal_basis,
            "retention_days": self.retention_days,
            "rate": {"concurrency": self.rate.concurrency, "delay_s": self.rate.delay_s},
            "max_pages": self.max_pages,
            "max_depth": self.max_depth,
        }


def _host_allowed(host: str, domains: Sequence[str]) -> bool:
    host = host.lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SourceError(f"'{key}' is missing or empty.")
    return value.strip()


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise SourceError(f"'{key}' is missing or empty (a list of strings).")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise SourceError(f"'{key}' must contain only non-empty strings.")
    return [v.strip() for v in value]


def _section(data: Mapping[str, Any], key: str, known: set[str]) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise SourceError(f"'{key}' is missing or not a mapping of selectors.")
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise SourceError(f"Unknown key(s) in '{key}': {', '.join(unknown)}.")
    return value


def _optional_selector(section: Mapping[str, Any], key: str, prefix: str) -> str:
    value = section.get(key)
    if value is None or value == "":
        return ""
    return check_selector(value, f"{prefix}.{key}")


def _number[T: (int, float)](data: Mapping[str, Any], name: str, default: T, kind: type[T], *,
                             minimum: float, key: str = "") -> T:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SourceError(f"'{key}{name}' must be a number.")
    if kind is int and not float(value).is_integer():
        raise SourceError(f"'{key}{name}' must be a whole number.")
    if value < 0:
        raise SourceError(f"'{key}{name}' must not be negative.")
    if value < minimum:
        raise SourceError(f"'{key}{name}' must be at least {minimum:g}.")
    return kind(value)
