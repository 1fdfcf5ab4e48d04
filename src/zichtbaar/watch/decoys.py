"""Decoy profiles (lokprofielen): deterrence, not entrapment.

A messaging gateway posts each message sent to a decoy to a signed webhook; the platform
answers with a deterrence reply chosen from ``data/deterrence.yaml``. Nothing that identifies
a buyer is kept: not the message, not the sender. A keyed hash of the sender (namespaced
"decoy-sender", per organisation) only tells whether someone came back after a warning, and a
keyed hash of the gateway's message id makes retried deliveries idempotent.

Pure parts (loading the templates, ``choose_reply``) take plain data; the services below carry
every write, each in one transaction with its audit entry.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Trunc
from django.http import Http404
from django.utils import timezone

from zichtbaar.audit.record import record

from .access import watch_allowed
from .events import WatchAuditEvent
from .models import Decoy, DecoyContact

TEMPLATES_PATH = Path(__file__).resolve().parent / "data" / "deterrence.yaml"
LANGUAGES = ("nl", "en")
PLACEHOLDERS = ("help", "report")
SIGNATURE_PREFIX = "sha256="
Period = Literal["day", "week", "month"]


# --- deterrence templates (pure) -----------------------------------------------------------

class DeterrenceTemplateError(ValueError):
    """The templates file is unusable; the message names the file and the offending entry."""


@dataclass(frozen=True)
class Category:
    id: str
    priority: int
    minor_age: bool
    persona_under: int | None
    terms: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    reply_id: str
    texts: Mapping[str, str]
    default: bool = False

    def matched_by(self, text: str) -> list[str]:
        """The terms and pattern numbers that match: an explanation, never stored."""
        found = [f"term:{t}" for t in self.terms if _term_regex(t).search(text)]
        found += [f"pattern:{i}" for i, p in enumerate(self.patterns) if p.search(text)]
        return found


@dataclass(frozen=True)
class DeterrenceTemplates:
    version: str
    resources: Mapping[str, Mapping[str, str]]
    categories: tuple[Category, ...]  # highest priority first

    @property
    def default(self) -> Category:
        return next(c for c in self.categories if c.default)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def template_id(self, category: Category) -> str:
        """What a contact stores: the version makes an old reply traceable to its text."""
        return f"{self.version}:{category.reply_id}"

    def render(self, category: Category, language: str) -> str:
        language = language if language in LANGUAGES else LANGUAGES[0]
        values = {name: self.resources[name][language] for name in PLACEHOLDERS}
        return category.texts[language].format(**values)


@dataclass(frozen=True)
class ReplyChoice:
    """The decision on one message: which category, and why (for tests and explanations)."""

    category: str
    template_id: str
    minor_age: bool
    reasons: tuple[str, ...]


@lru_cache(maxsize=512)
def _term_regex(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)")


def normalise_text(text: str) -> str:
    """Case-fold, NFKC and collapse whitespace, so 'Ben  je\\n16' reads like 'ben je 16'."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _fail(where: str, problem: str, source: str) -> DeterrenceTemplateError:
    return DeterrenceTemplateError(f"{source}: {where}: {problem}")


def _texts(value: Any, where: str, source: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"must map each language ({', '.join(LANGUAGES)}) to a text", source)
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            raise _fail(f"{where}.{language}", "a non-empty text is required", source)
        texts[language] = " ".join(text.split())
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise _fail(where, f"unknown language(s) {sorted(unknown)}", source)
    return texts


def _category(raw: Any, index: int, source: str) -> Category:
    where = f"categories[{index}]"
    if not isinstance(raw, Mapping):
        raise _fail(where, "must be a mapping", source)
    known = {"id", "priority", "minor_age", "persona_under", "terms", "patterns", "reply",
             "default"}
    unknown = set(raw) - known
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)}", source)
    category_id = raw.get("id")
    if not isinstance(category_id, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}",
                                                            category_id):
        raise _fail(f"{where}.id", "must be a lower-case name of at most 32 characters",
                    source)
    where = f"categories[{index}] ({category_id})"
    priority = raw.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise _fail(f"{where}.priority", "must be a whole number", source)
    for flag in ("minor_age", "default"):
        if not isinstance(raw.get(flag, False), bool):
            raise _fail(f"{where}.{flag}", "must be true or false", source)
    persona_under = raw.get("persona_under")
    if persona_under is not None and (not isinstance(persona_under, int)
                                      or isinstance(persona_under, bool)
                                      or not 1 <= persona_under <= 120):
        raise _fail(f"{where}.persona_under", "must be an age between 1 and 120", source)
    terms = raw.get("terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
        raise _fail(f"{where}.terms", "must be a list of non-empty texts", source)
    patterns: list[re.Pattern[str]] = []
    raw_patterns = raw.get("patterns", [])
    if not isinstance(raw_patterns, list):
        raise _fail(f"{where}.patterns", "must be a list of regular expressions", source)
    for i, pattern in enumerate(raw_patterns):
        if not isinstance(pattern, str) or not pattern:
            raise _fail(f"{where}.patterns[{i}]", "must be a non-empty text", source)
        try:
            patterns.append(re.compile(pattern))
        except re.error as exc:
            raise _fail(f"{where}.patterns[{i}]", f"invalid regular expression: {exc}",
                        source) from exc
    reply = raw.get("reply")
    if not isinstance(reply, Mapping):
        raise _fail(f"{where}.reply", "must be a mapping with id, nl and en", source)
    reply_id = reply.get("id")
    if not isinstance(reply_id, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", reply_id):
        raise _fail(f"{where}.reply.id", "must be a lower-case name of at most 32 characters",
                    source)
    texts = _texts({k: v for k, v in reply.items() if k != "id"}, f"{where}.reply", source)
    for language, text in texts.items():
        try:
            text.format(**dict.fromkeys(PLACEHOLDERS, ""))
        except (KeyError, IndexError, ValueError) as exc:
            raise _fail(f"{where}.reply.{language}",
                        f"unknown or malformed placeholder {exc}; use only "
                        + ", ".join("{" + p + "}" for p in PLACEHOLDERS), source) from exc
    default = bool(raw.get("default", False))
    if not default and not terms and not patterns and persona_under is None:
        raise _fail(where, "matches nothing: give terms, patterns or persona_under", source)
    return Category(
        id=category_id, priority=priority, minor_age=bool(raw.get("minor_age", False)),
        persona_under=persona_under,
        terms=tuple(normalise_text(t) for t in terms), patterns=tuple(patterns),
        reply_id=reply_id, texts=texts, default=default)


def templates_from_dict(data: Any, *, source: str = "deterrence templates"
                        ) -> DeterrenceTemplates:
    """Validate parsed YAML; every error names the entry, so an editor can fix it."""
    if not isinstance(data, Mapping):
        raise _fail("top level", "must be a mapping with version, resources and categories",
                    source)
    unknown = set(data) - {"version", "resources", "categories"}
    if unknown:
        raise _fail("top level", f"unknown key(s) {sorted(unknown)}", source)
    version = data.get("version")
    if not isinstance(version, str) or not re.fullmatch(r"[\w.-]{1,20}", version):
        raise _fail("version", "must be a short text such as \"2026-1\"", source)
    raw_resources = data.get("resources")
    if not isinstance(raw_resources, Mapping):
        raise _fail("resources", f"must give {', '.join(PLACEHOLDERS)}", source)
    resources = {name: _texts(raw_resources.get(name), f"resources.{name}", source)
                 for name in PLACEHOLDERS}
    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        raise _fail("categories", "must be a non-empty list", source)
    categories = [_category(raw, i, source) for i, raw in enumerate(raw_categories)]
    for attribute in ("id", "reply_id"):
        seen: set[str] = set()
        for category in categories:
            value = getattr(category, attribute)
            if value in seen:
                label = "category id" if attribute == "id" else "reply id"
                raise _fail("categories", f"{label} {value!r} is used twice", source)
            seen.add(value)
    defaults = [c.id for c in categories if c.default]
    if len(defaults) != 1:
        raise _fail("categories", f"exactly one category needs default: true (found "
                    f"{len(defaults)})", source)
    priorities = [c.priority for c in categories]
    if len(set(priorities)) != len(priorities):
        raise _fail("categories", "two categories share a priority; the order would be "
                    "ambiguous", source)
    ordered = tuple(sorted(categories, key=lambda c: -c.priority))
    return DeterrenceTemplates(version=version, resources=resources, categories=ordered)


def load_templates(path: Path | str = TEMPLATES_PATH) -> DeterrenceTemplates:
    """Read and validate a templates file; a broken file fails loudly with its path."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeterrenceTemplateError(f"{path}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise DeterrenceTemplateError(f"{path}: not valid YAML: {exc}") from exc
    return templates_from_dict(data, source=str(path))


@lru_cache(maxsize=1)
def current_templates() -> DeterrenceTemplates:
    return load_templates()


def choose_reply(text: str, persona_age: int | None,
                 templates: DeterrenceTemplates) -> ReplyChoice:
    """The highest-priority category the message (or the persona's age) matches.

    A persona under a category's ``persona_under`` always gets that category: someone who
    writes to a profile presented as a minor gets the strongest warning whatever they wrote.
    """
    normalised = normalise_text(text)
    minor_age = False
    chosen: Category | None = None
    reasons: list[str] = []
    for category in templates.categories:  # highest priority first
        if category.default:
            continue
        matched = category.matched_by(normalised)
        if matched and category.minor_age:
            minor_age = True
        if (category.persona_under is not None and persona_age is not None
                and persona_age < category.persona_under):
            matched.append(f"persona_under:{category.persona_under}")
        if matched and chosen is None:
            chosen, reasons = category, matched
    if chosen is None:
        chosen, reasons = templates.default, ["default"]
    return ReplyChoice(category=chosen.id, template_id=templates.template_id(chosen),
                       minor_age=minor_age, reasons=tuple(reasons))


# --- keys and signatures -------------------------------------------------------------------

def _keyed(namespace: str, value: str) -> str:
    key = (getattr(settings, "PSEUDONYM_KEY", "") or settings.LINKAGE_KEY).encode()
    return hmac.new(key, f"{namespace}:{value}".encode(), hashlib.sha256).hexdigest()


def sender_key(organisation_id: int, sender: str) -> str:
    """Per organisation: a buyer who writes to another of its decoys still counts as
    returning, while two organisations' counts can never be linked."""
    normalised = "".join(unicodedata.normalize("NFKC", sender).casefold().split())
    return _keyed("decoy-sender", f"{organisation_id}:{normalised}")


def message_key(decoy_id: int, message_id: str) -> str:
    return _keyed("decoy-message", f"{decoy_id}:{message_id}")


def signature_for(secret: str, body: bytes) -> str:
    """The header value a gateway sends: ``sha256=<hex HMAC-SHA256 of the raw body>``."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    return bool(secret) and hmac.compare_digest(signature_for(secret, body).encode(),
                                                header.strip().encode())


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# --- access ---------------------------------------------------------------------------------

def may_manage_decoys(user: Any) -> bool:
    """Capability and organisation type: a care NGO's admin has the role but no decoys."""
    return watch_allowed(user, "watch.decoys.manage")


def access_decoy(user: Any, pk: int) -> Decoy:
    """A decoy of the user's own organisation; any other is a 404."""
    if not may_manage_decoys(user):
        raise Http404
    decoy = Decoy.objects.filter(pk=pk, organisation_id=user.organisation_id).first()
    if decoy is None:
        raise Http404
    return decoy


# --- services -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """What the webhook answers; ``replayed`` marks a retried delivery (nothing stored)."""

    text: str
    template_id: str
    category: str
    language: str
    minor_age: bool
    returning: bool
    replayed: bool


DECOY_FIELDS = ("name", "profile", "persona_age", "active")


@transaction.atomic
def decoy_create(*, actor: Any, organisation: Any, name: str, profile: str = "",
                 persona_age: int | None = None, active: bool = True) -> tuple[Decoy, str]:
    """A new decoy and its webhook secret; the caller shows the secret once."""
    secret = new_secret()
    decoy = Decoy.objects.create(organisation=organisation, name=name, profile=profile,
                                 persona_age=persona_age, active=active, secret=secret)
    record(WatchAuditEvent.DECOY_SAVED, actor=actor, object_type="watch_decoy",
           object_id=decoy.pk, organisation_id=organisation.pk,
           detail={"change": "created", "active": active, "persona_minor": _minor(persona_age)})
    return decoy, secret


@transaction.atomic
def decoy_update(*, actor: Any, decoy: Decoy, name: str, profile: str = "",
                 persona_age: int | None = None, active: bool = True) -> Decoy:
    """Save changed fields; the audit entry names the fields, not their contents."""
    values = {"name": name, "profile": profile, "persona_age": persona_age, "active": active}
    changed = [f for f in DECOY_FIELDS if getattr(decoy, f) != values[f]]
    if not changed:
        return decoy
    for field_name in changed:
        setattr(decoy, field_name, values[field_name])
    decoy.save(update_fields=[*changed, "updated_at"])
    record(WatchAuditEvent.DECOY_SAVED, actor=actor, object_type="watch_decoy",
           object_id=decoy.pk, organisation_id=decoy.organisation_id,
           detail={"change": "updated", "fields": changed, "active": decoy.active,
                   "persona_minor": _minor(decoy.persona_age)})
    return decoy


@transaction.atomic
def decoy_rotate_secret(*, actor: Any, decoy: Decoy) -> str:
    """A new secret; the old one stops working at once, so the gateway must be updated."""
    secret = new_secret()
    decoy.secret = secret
    decoy.save(update_fields=["secret", "updated_at"])
    record(WatchAuditEvent.DECOY_SAVED, actor=actor, object_type="watch_decoy",
           object_id=decoy.pk, organisation_id=decoy.organisation_id,
           detail={"change": "secret_rotated"})
    return secret


def _minor(age: int | None) -> bool:
    return age is not None and age < 18


def decoy_contact_receive(*, decoy: Decoy, sender: str, message_id: str, text: str,
                          language: str = "nl",
                          templates: DeterrenceTemplates | None = None) -> Reply:
    """Answer one inbound message; store only category, flags and the template used.

    A retried delivery (same message id) gets the same reply and stores nothing new. The
    decoy row is locked for the check and the insert, so two concurrent retries cannot both
    store a contact.
    """
    templates = templates or current_templates()
    language = language if language in LANGUAGES else LANGUAGES[0]
    key = message_key(decoy.pk, message_id)
    with transaction.atomic():
        Decoy.objects.select_for_update().filter(pk=decoy.pk).first()
        earlier = DecoyContact.objects.filter(decoy=decoy, message_key=key).first()
        if earlier is not None:
            category = templates.category(earlier.category) or templates.default
            return Reply(text=templates.render(category, language),
                         template_id=earlier.reply_template, category=earlier.category,
                         language=language, minor_age=earlier.minor_age,
                         returning=earlier.returning, replayed=True)
        choice = choose_reply(text, decoy.persona_age, templates)
        who = sender_key(decoy.organisation_id, sender)
        returning = DecoyContact.objects.filter(
            decoy__organisation_id=decoy.organisation_id, sender_key=who).exists()
        contact = DecoyContact.objects.create(
            decoy=decoy, sender_key=who, message_key=key, returning=returning,
            minor_age=choice.minor_age, category=choice.category,
            reply_template=choice.template_id)
        record(WatchAuditEvent.DECOY_CONTACT, actor=None, object_type="watch_decoy",
               object_id=decoy.pk, organisation_id=decoy.organisation_id,
               detail={"contact": contact.pk, "category": choice.category,
                       "template": choice.template_id, "minor_age": choice.minor_age,
                       "returning": returning})
    category = templates.category(choice.category) or templates.default
    return Reply(text=templates.render(category, language), template_id=choice.template_id,
                 category=choice.category, language=language, minor_age=choice.minor_age,
                 returning=returning, replayed=False)


# --- selectors ------------------------------------------------------------------------------

def decoys_of(user: Any) -> QuerySet[Decoy]:
    return Decoy.objects.filter(organisation_id=user.organisation_id)


def _period_start(day: dt.date, period: Period) -> dt.date:
    if period == "month":
        return day.replace(day=1)
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    return day


def _next_period(day: dt.date, period: Period) -> dt.date:
    if period == "month":
        days = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1) + dt.timedelta(days=days)
    return day + dt.timedelta(days=7 if period == "week" else 1)


def decoy_counts(*, organisation: Any = None, start: dt.date, end: dt.date,
                 period: Period = "month", decoy: Decoy | None = None,
                 ) -> list[dict[str, Any]]:
    """Contacts, returning contacts and minor-age mentions per period, for the monitor.

    ``start`` and ``end`` are both included (local dates). Every period in the range is
    listed, with zeros where nothing came in, so a series has no silent gaps. Counts are raw;
    small-cell suppression is the monitor's job.
    """
    if period not in ("day", "week", "month"):
        raise ValueError(f"period must be day, week or month, not {period!r}")
    if end < start:
        raise ValueError("end lies before start")
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    contacts = DecoyContact.objects.filter(created_at__gte=since, created_at__lt=until)
    if organisation is not None:
        contacts = contacts.filter(decoy__organisation=organisation)
    if decoy is not None:
        contacts = contacts.filter(decoy=decoy)
    rows = (contacts.annotate(bucket=Trunc("created_at", period, tzinfo=zone))
            .values("bucket").order_by("bucket")
            .annotate(contacts=Count("id"), returning=Count("id", filter=Q(returning=True)),
                      minor_age=Count("id", filter=Q(minor_age=True))))
    found: dict[dt.date, dict[str, int]] = {}
    for row in rows:
        bucket = row["bucket"]
        day = (timezone.localtime(bucket, zone).date() if isinstance(bucket, dt.datetime)
               else bucket)
        found[_period_start(day, period)] = {
            "contacts": row["contacts"], "returning": row["returning"],
            "minor_age": row["minor_age"]}
    result = []
    current = _period_start(start, period)
    while current <= end:
        counts = found.get(current, {"contacts": 0, "returning": 0, "minor_age": 0})
        result.append({"period": current, **counts})
        current = _next_period(current, period)
    return result


def months_back(today: dt.date, months: int) -> dt.date:
    """The first day of the month ``months - 1`` months before ``today``'s month."""
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        month += 12
        year -= 1
    return dt.date(year, month, 1)


def decoy_month_table(decoys: Sequence[Decoy], *, today: dt.date, months: int = 6
                      ) -> list[dict[str, Any]]:
    """Per decoy, its counts of the last ``months`` months (newest first) for the list page."""
    start = months_back(today, months)
    return [{"decoy": d,
             "months": list(reversed(decoy_counts(decoy=d, start=start, end=today)))}
            for d in decoys]
