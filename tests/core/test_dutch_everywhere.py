"""Every page reads Dutch: no English widget texts, no raw codes, no machine timestamps.

The walk loads the demo (accounts, hub, helpline, estimate, monitor; Watch's ads through its
own store service instead of the demo's crawl subprocess), then, signed in as every demo role
with a confirmed second factor (and anonymously), asks every named URL of the URL conf in
Dutch and follows the links each page offers. Every HTML or SVG answer, error pages included,
is checked in its visible text: text nodes outside ``<script>``/``<style>`` plus the
attributes people see (``placeholder``, ``title``, ``aria-label``, ``alt``, button values).
Machine-readable attributes (``<time datetime>``, ``data-*``, ``href``) are not visible text.

The findings are written per page to ``test-artifacts/dutch-everywhere.txt``; the test fails
while any remain, wherever they are.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404

from tests.conftest import ARTIFACTS, verified_client
from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.events import EVENT_LABELS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Named URLs that are no page to read: POST-only actions, downloads, JSON, machine endpoints.
NOT_PAGES = {
    "core:health": "JSON health check",
    "core:set_language": "POST only",
    "accounts:logout": "POST only",
    "audit:export": "CSV download",
    "helpline:visitor_exit": "POST beacon",
    "helpline:visitor_start_token": "JSON token",
    "helpline:shift_start": "POST only",
    "helpline:queue_clear": "POST only",
    "helpline:canned_delete": "POST only",
    "helpline:referral": "POST only",
    "helpline:stats_csv": "CSV download",
    "hub:attachment": "file download (no demo attachment)",
    "hub:signal_action": "POST only",
    "hub:agreement_end": "POST only",
    "hub:duplicate_decide": "POST only",
    "hub:subject_access": "POST only (JSON/PDF export)",
    "hub:erasure_request": "POST only",
    "hub:erasure_decide": "POST only",
    "hub:api_signals": "REST API",
    "hub:api_handovers": "REST API",
    "hub:api_outcome": "REST API",
    "hub:api_schema": "OpenAPI schema",
    "estimate:reproduce": "POST only",
    "estimate:download_json": "JSON download",
    "estimate:download_csv": "CSV download",
    "estimate:download_input": "CSV download",
    "estimate:plot": "PNG image",
    "watch:cluster_label": "POST only",
    "watch:cluster_handover": "POST only",
    "watch:export": "CSV download",
    "watch:decoy_rotate": "POST only",
    "watch:decoy_webhook": "gateway webhook (POST)",
    "monitor:table": "CSV download",
    "monitor:public_table": "CSV download",
    "monitor:organisation_table": "CSV download",
    "monitor:report_download": "report file download",
    "monitor:export_download": "file download",
    "monitor:export_api_tables": "JSON API",
    "monitor:export_api_table": "JSON API",
}
# How many different URLs of one named pattern each role reads (list pages link to many).
PER_PATTERN = 2
VISIBLE_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}

# --- what must not be in a Dutch page -------------------------------------------------------

WIDGET_TEXTS = re.compile(
    r"Select an option|-{9}|This field is required|Enter a valid|Enter a number|Currently:"
    r"|\bChange:|\bClear\b|\bChoose\b|\bSelect\b|Ensure this value|Upload a valid"
    r"|Select a valid choice|The submitted file|No file was submitted")
ENGLISH_DATES = re.compile(
    r"\b(?:January|February|March|April|June|July|August|September|October|November"
    r"|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(?:Jan|Feb|Mar|Apr|Aug|Sept|Oct|Nov|Dec)\.|\b[ap]\.m\.|\bmidnight\b|\bnoon\b")
# Machine moments: the T form, an offset or "UTC" (raw UTC from JSON), or year-month-day with a
# time, which is not how a Dutch reader writes a moment ("3 december 2026 08:41").
ISO_TIMESTAMPS = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}|UTC)\b)?")
ENGLISH_WORDS = re.compile(
    r"\b(?:Save|Cancel|Search|Submit|Back|Next|Previous|Delete|Edit|Loading|Close|Yes"
    r"|Sign in|Sign out|Reset|Apply|Show|Hide|Remove|Send|Name|Date|Total|Unknown|None"
    r"|True|False)\b|(?<=\s)(?:the|and|with|your|this)(?=\s)")


def audit_codes() -> re.Pattern[str]:
    codes = sorted(EVENT_LABELS, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, codes)) + r")(?![\w-])")


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str


def findings_in(visible: list[str], codes: re.Pattern[str]) -> list[Finding]:
    found: list[Finding] = []
    for text in visible:
        for kind, pattern in (("Django widget/form text", WIDGET_TEXTS),
                              ("English date", ENGLISH_DATES),
                              ("raw audit code", codes),
                              ("ISO/UTC timestamp", ISO_TIMESTAMPS),
                              ("English word", ENGLISH_WORDS)):
            for match in pattern.finditer(text):
                start = max(match.start() - 40, 0)
                found.append(Finding(kind, f"{match.group(0)!r} in …{text[start:match.end() + 40]}…"))
    return found


# --- visible text ---------------------------------------------------------------------------

class VisibleText(HTMLParser):
    """Text a reader sees: text nodes and the visible attributes, not scripts or styles.

    Elements marked ``lang="en"`` (the "English" switch) are meant to be English.
    """

    # Not read as interface text: scripts, styles, SVG metadata, and code, samples and data
    # being edited (a JSON example for a gateway, the bilingual YAML of a catalogue).
    HIDDEN = {"script", "style", "metadata", "code", "pre", "textarea", "kbd", "samp"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self.lang = ""
        self._stack: list[tuple[str, bool]] = []  # (tag, hidden or English)

    def _skipping(self) -> bool:
        return any(skip for _, skip in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = values.get("lang", "")
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(values[name])
        skip = tag in self.HIDDEN or values.get("lang", "").startswith("en")
        if not (skip or self._skipping()):
            self.texts.extend(v for k, v in values.items() if k in VISIBLE_ATTRIBUTES and v)
            if tag in {"input", "button"} and values.get("type") in {"submit", "button",
                                                                      "reset"}:
                self.texts.append(values.get("value", ""))
        if tag not in self.VOID:
            self._stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self._stack and self._stack[-1][0] == tag:
            self._stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_text(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser


# --- the demo world -------------------------------------------------------------------------

DESK_ADMIN = "desk-admin"  # not in the demo: the reporting point's own administrator


@dataclass
class World:
    users: dict[str, User]
    seeds: dict[str, Callable[[User], dict[str, Any] | None]] = field(default_factory=dict)


def _own(model: Any, user: User, **lookups: Any) -> Any:
    return model.objects.filter(organisation_id=user.organisation_id, **lookups).order_by(
        "-pk").first()


def load_world() -> World:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.watch.conftest import store_synth
    from zichtbaar.accounts import demo as accounts_demo
    from zichtbaar.accounts import services as accounts
    from zichtbaar.estimate.web import demo as estimate_demo
    from zichtbaar.estimate.web import engine
    from zichtbaar.estimate.web import services as estimate
    from zichtbaar.estimate.web.models import EstimateRun, RunStatus
    from zichtbaar.helpline import demo as helpline_demo
    from zichtbaar.helpline.models import Conversation
    from zichtbaar.hub import demo as hub_demo
    from zichtbaar.hub import rights
    from zichtbaar.hub import services as hub
    from zichtbaar.hub.models import ErasureRequest, Handover, Person, Signal
    from zichtbaar.monitor import demo as monitor_demo
    from zichtbaar.monitor import report_jobs
    from zichtbaar.monitor.models import IndicatorValue
    from zichtbaar.watch import decoys
    from zichtbaar.watch import services as watch
    from zichtbaar.watch.models import Cluster, Decoy

    quiet = lambda text: None  # noqa: E731
    for module in (accounts_demo, hub_demo, helpline_demo, estimate_demo, monitor_demo):
        module.load(quiet)
    store_synth(networks=3, independents=6, seed=11)
    watch.link_pending()
    desk = Organisation.objects.get(type=OrganisationType.REPORTING_POINT)
    desk_admin = accounts.user_create(username=DESK_ADMIN, password=None, organisation=desk,
                                      roles={Role.ADMIN})
    accounts.totp_device_create_confirmed(user=desk_admin)
    users = {u.username: u for u in User.objects.filter(
        pk__in=TOTPDevice.objects.filter(confirmed=True).values("user_id"))}
    analyst = users["analyst"]
    hub.duplicates_propose(actor=analyst, organisation=desk)
    person = Person.objects.filter(signal__organisation=desk).order_by("pk").first()
    rights.erasure_request(actor=desk_admin, person=person, note="demo")
    # A queued run (its job starts on commit, which never comes inside this test), so the
    # progress fragment has something to show.
    estimate.run_create(actor=users["researcher"], input_name=estimate_demo.DEMO_NAME,
                        data=estimate_demo.DEMO_FILE.read_bytes(),
                        parameters=engine.parameters_from({"method": "stepwise"}))
    for org in (desk, Organisation.objects.get(type=OrganisationType.POLICE)):
        decoys.decoy_create(actor=None, organisation=org, name="Lok demo", persona_age=19)

    def job_for(user: User) -> dict[str, Any] | None:
        if not user.organisation_id:
            return None
        job = report_jobs.create(year=2025, language="nl", fmt="html", audience="public",
                                 organisation_id=user.organisation_id, user_id=user.pk)
        return {"job_id": job.id}

    helpline_org = Organisation.objects.get(type=OrganisationType.CARE_NGO)
    cluster = Cluster.objects.order_by("-size", "pk").first()
    value = IndicatorValue.objects.order_by("pk").first()
    seeds: dict[str, Callable[[User], dict[str, Any] | None]] = {
        "accounts:member_detail": lambda u: {"pk": (User.objects.filter(
            organisation_id=u.organisation_id).exclude(pk=u.pk).first() or u).pk},
        "helpline:visitor": lambda u: {"slug": helpline_org.slug},
        "helpline:browse_safely": lambda u: {"slug": helpline_org.slug},
        "helpline:transcript": lambda u: _pk(Conversation.objects.filter(
            organisation=helpline_org, transcript_deleted_at__isnull=True).order_by("-pk")),
        "helpline:coding": lambda u: _pk(Conversation.objects.filter(
            organisation=helpline_org).order_by("-pk")),
        "helpline:referral": lambda u: _pk(Conversation.objects.filter(
            organisation=helpline_org).order_by("-pk")),
        "hub:signal_detail": lambda u: _pk(Signal.objects.filter(
            organisation_id=u.organisation_id, external_ref="demo-2")),
        "hub:handover_detail": lambda u: _pk(Handover.objects.filter(
            partner_id=u.organisation_id)),
        "hub:person_rights": lambda u: {"pk": person.pk},
        "estimate:detail": lambda u: _pk(EstimateRun.objects.filter(
            organisation_id=u.organisation_id)),
        "estimate:progress": lambda u: _pk(EstimateRun.objects.filter(
            organisation_id=u.organisation_id, status=RunStatus.QUEUED)),
        "watch:cluster": lambda u: {"pk": cluster.pk},
        "watch:cluster_images": lambda u: {"pk": cluster.pk},
        "watch:cluster_timeline_svg": lambda u: {"pk": cluster.pk},
        "watch:decoy_detail": lambda u: _pk(Decoy.objects.filter(
            organisation_id=u.organisation_id)),
        "monitor:chart": lambda u: {"key": "al1-registered"},
        "monitor:public_chart": lambda u: {"key": "al1-registered"},
        "monitor:organisation_chart": lambda u: {"key": "org-chat-reach"},
        "monitor:report_status": job_for,
        "monitor:report_progress": job_for,
        "monitor:value_history": lambda u: {"pk": value.pk},
    }
    assert ErasureRequest.objects.exists()
    return World(users=users, seeds=seeds)


def _pk(queryset: Any) -> dict[str, Any] | None:
    obj = queryset.first()
    return {"pk": obj.pk} if obj is not None else None


def named_patterns() -> Iterator[tuple[str, URLPattern]]:
    def walk(patterns: list[Any], namespace: str) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif pattern.name:
                yield f"{namespace}{pattern.name}", pattern

    yield from walk(get_resolver().url_patterns, "")


# --- the walk -------------------------------------------------------------------------------

@dataclass
class Walk:
    codes: re.Pattern[str]
    pages: dict[str, dict[str, list[Finding]]] = field(
        default_factory=lambda: defaultdict(dict))  # url name -> "role url" -> findings
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # 200s
    errors: list[str] = field(default_factory=list)

    def read(self, client: Client, role: str, url: str, visited: set[str],
             per_name: dict[str, int]) -> list[str]:
        try:
            name = resolve(urlsplit(url).path).view_name
        except Resolver404:
            name = "(no such page)"
        if url in visited or name in NOT_PAGES or per_name[name] >= PER_PATTERN:
            return []
        visited.add(url)
        per_name[name] += 1
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="nl")
        if response.status_code >= 500:
            self.errors.append(f"{role} {url}: {response.status_code}")
            return []
        kind = response.get("Content-Type", "")
        if response.status_code == 200:
            self.seen[name].add(role)
        if "html" not in kind and "svg" not in kind:
            return []
        parsed = visible_text(response.content.decode())
        found = findings_in(parsed.texts, self.codes)
        if "html" in kind and parsed.lang != "nl" and "<html" in response.content.decode():
            found.append(Finding("language", f'<html lang="{parsed.lang}">'))
        self.pages[name][f"{role} {url} ({response.status_code})"] = found
        if response.status_code != 200:
            return []
        return [link for link in parsed.links if link.startswith("/")
                and not link.startswith(("/static/", "//"))]

    def crawl(self, client: Client, role: str, start: list[str]) -> None:
        visited: set[str] = set()
        per_name: dict[str, int] = defaultdict(int)
        queue = list(start)
        while queue:
            url = queue.pop(0)
            queue.extend(self.read(client, role, url, visited, per_name))


def client_for(user: User | None) -> Client:
    client = verified_client(user) if user is not None else Client()
    client.cookies["zb_lang"] = "nl"
    return client


def start_urls(world: World, user: User | None) -> list[str]:
    urls = ["/", "/no-such-page/"]
    for name, pattern in named_patterns():
        if name in NOT_PAGES or name.startswith("audit:"):
            continue
        kwargs: dict[str, Any] | None = {}
        if pattern.pattern.converters:
            seed = world.seeds.get(name)
            # An unsaved user stands for the anonymous visitor: no organisation, no objects.
            kwargs = seed(user or User()) if seed else None
            if kwargs is None:
                continue
        try:
            urls.append(reverse(name, kwargs=kwargs))
        except NoReverseMatch:
            continue
    # The audit trail last, so it lists what the walk itself recorded.
    return [*urls, reverse("audit:search")]


def report(walk: Walk) -> tuple[str, int]:
    lines: list[str] = []
    total = 0
    for name in sorted(walk.pages):
        by_page = walk.pages[name]
        issues: dict[Finding, list[str]] = defaultdict(list)
        for where, found in by_page.items():
            for finding in found:
                issues[finding].append(where)
        roles = ", ".join(sorted(walk.seen.get(name, set()))) or "—"
        lines.append(f"{name}  [read as: {roles}]  {'OK' if not issues else ''}")
        for finding, wheres in sorted(issues.items(), key=lambda i: (i[0].kind, i[0].text)):
            total += 1
            lines.append(f"    {finding.kind}: {finding.text}")
            lines.append(f"        at {wheres[0]}" + (f" (+{len(wheres) - 1} more)"
                                                      if len(wheres) > 1 else ""))
    return "\n".join(lines), total


def test_every_page_reads_dutch_for_every_role() -> None:
    import time

    started = time.perf_counter()
    world = load_world()
    timings = [f"demo loaded in {time.perf_counter() - started:.1f} s"]
    walk = Walk(codes=audit_codes())
    roles: list[tuple[str, User | None]] = [("anonymous", None)]
    roles += sorted(world.users.items())
    for role, user in roles:
        began, pages = time.perf_counter(), sum(len(p) for p in walk.pages.values())
        walk.crawl(client_for(user), role, start_urls(world, user))
        timings.append(f"{role}: {sum(len(p) for p in walk.pages.values()) - pages} pages "
                       f"in {time.perf_counter() - began:.1f} s")

    text, total = report(walk)
    text += "\n\nTimings: " + "; ".join(timings)
    expected = {name for name, _ in named_patterns() if name not in NOT_PAGES}
    unread = sorted(expected - set(walk.seen))
    text += "\n\nNot read by any role: " + (", ".join(unread) or "none")
    text += "\n500 answers: " + ("; ".join(walk.errors) or "none")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "dutch-everywhere.txt").write_text(text + "\n", encoding="utf-8")

    assert walk.errors == [], "server errors:\n" + "\n".join(walk.errors)
    assert unread == [], f"pages no role could read: {unread}"
    assert total == 0, f"{total} findings in Dutch pages:\n{text}"


def test_django_empty_choice_reads_dutch() -> None:
    """Django 6's "- Select an option -" has no Dutch in Django itself; ours translates it."""
    from django.db.models.fields import BLANK_CHOICE_LABEL
    from django.utils import translation

    with translation.override("nl"):
        assert str(BLANK_CHOICE_LABEL) == "- Kies een optie -"
    with translation.override("en"):
        assert str(BLANK_CHOICE_LABEL) == "- Select an option -"


def test_the_checks_find_what_they_look_for() -> None:
    """The detector itself, on the three problems the demo walk found (issue 14)."""
    html = ('<html lang="nl"><body><select><option value="">- Select an option -</option>'
            '</select><td>audit_searched</td><dd>2026-12-03T07:38:36Z</dd>'
            '<time datetime="2026-12-03T08:38:36+01:00">3 dec 2026 08:38</time>'
            '<script>var t = "2026-12-03T07:38:36Z";</script>'
            '<button lang="en">English</button><p>Save the file</p></body></html>')
    parsed = visible_text(html)
    kinds = sorted({f.kind for f in findings_in(parsed.texts, audit_codes())})
    assert kinds == ["Django widget/form text", "English word", "ISO/UTC timestamp",
                     "raw audit code"]
    assert parsed.lang == "nl"
    assert [f.kind for f in findings_in(["Gestart 2026-12-03 08:41"], audit_codes())] == [
        "ISO/UTC timestamp"]
    assert [f.kind for f in findings_in(["Geboren 1994-04-12"], audit_codes())] == []
    assert not findings_in(visible_text('<p><time datetime="2026-12-03T08:38">3 dec</time>'
                                        ' Opslaan</p>').texts, audit_codes())
