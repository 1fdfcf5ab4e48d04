"""The home page's live work: one card per kind of work the user's roles and organisation give.

Each card asks the owning app's own access rule (capability, organisation type) and reads
through that app's selectors, which already limit everything to the user's organisation. A
card needs both the capability and a role whose daily work it is: a helpline administrator may
technically open the signal queue, but a queue card that is always empty is noise.

Only counts, references (S-000012, C-000034, chat numbers) and times are shown: no names,
texts or contact details of victims or reporters. Opening the home page is therefore not a
look at personal data and records no audit entry; opening an item behind a link is audited by
that item's own page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role, has_capability
from zichtbaar.estimate.web import selectors as estimate_selectors
from zichtbaar.estimate.web.models import RunStatus
from zichtbaar.helpline import selectors as helpline_selectors
from zichtbaar.helpline.access import COUNSEL, SUPERVISE, helpline_can
from zichtbaar.hub import selectors as hub_selectors
from zichtbaar.hub.models import CodebookVersion, Handover, SharingAgreement, Signal
from zichtbaar.watch import selectors as watch_selectors
from zichtbaar.watch.access import watch_allowed

TOP = 5  # items per card: enough to start on, the app's own page has the rest
POLL_SECONDS = 30
OPENED_KEY = "home_opened_at"  # session key: when the full home page was last loaded

# Roles that meet victims, reporters or partners and hand out the public pages.
SHARING_ROLES = frozenset({Role.COUNSELLOR, Role.SUPERVISOR, Role.ANALYST, Role.PARTNER,
                           Role.COORDINATOR})


# --- cards ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One line of a card: a reference that links to the item's own (audited) page."""

    reference: str
    url: str
    since: dt.datetime | None = None  # received, queued, accepted or started
    urgent: bool = False
    overdue: bool = False
    note: str | Promise = ""


@dataclass(frozen=True)
class HelplineCard:
    waiting: int
    waiting_risk: int
    longest_wait_since: dt.datetime | None  # arrival of the longest-waiting visitor
    my_chats: list[Item]
    team_live: int | None  # supervisors: active chats of the whole helpline
    url: str


@dataclass(frozen=True)
class SignalsCard:
    open: int
    urgent: int
    overdue: int
    urgent_overdue: int
    oldest: list[Item]
    target_hours: dict[str, int]  # per urgency band, from the newest codebook
    url: str


@dataclass(frozen=True)
class InboxCard:
    unacknowledged: int
    oldest: list[Item]
    url: str


@dataclass(frozen=True)
class WatchCard:
    new: int
    grown: int
    top: list[Item]
    url: str


@dataclass(frozen=True)
class EstimatesCard:
    running: int
    queued: int
    active: list[Item]
    finished: list[Item]
    url: str


@dataclass(frozen=True)
class LiveWork:
    helpline: HelplineCard | None = None
    signals: SignalsCard | None = None
    inbox: InboxCard | None = None
    watch: WatchCard | None = None
    estimates: EstimatesCard | None = None

    @property
    def any(self) -> bool:
        return any((self.helpline, self.signals, self.inbox, self.watch, self.estimates))


def _roles(user: User) -> frozenset[str]:
    return frozenset(str(r) for r in user.role_set)


def helpline_card(user: User, now: dt.datetime) -> HelplineCard | None:
    """Counsellors and supervisors of a care organisation: the queue and their own chats."""
    if not helpline_can(user, COUNSEL):
        return None
    organisation_id = user.organisation_id
    assert organisation_id is not None  # helpline_can checked it
    waiting = helpline_selectors.queue(organisation_id).aggregate(
        n=Count("pk"), risk=Count("pk", filter=Q(risk_flag=True)), first=Min("queued_at"))
    console = reverse("helpline:console")
    mine = [Item(reference=str(_("Chat %(number)s") % {"number": chat.pk}), url=console,
                 since=chat.accepted_at)
            for chat in helpline_selectors.chats_of(user).only("pk", "accepted_at")]
    team = (helpline_selectors.live_chats(organisation_id).count()
            if helpline_can(user, SUPERVISE) else None)
    return HelplineCard(waiting=waiting["n"], waiting_risk=waiting["risk"],
                        longest_wait_since=waiting["first"], my_chats=mine, team_live=team,
                        url=console)


def target_hours() -> dict[str, int]:
    """Target handling time per urgency band, from the newest codebook (read-only here)."""
    book = CodebookVersion.objects.order_by("-created_at", "-id").first()
    hours = ((book.data or {}).get("triage") or {}).get("target_hours") if book else None
    if not isinstance(hours, dict):
        return {}
    return {band: int(value) for band, value in hours.items()
            if band in ("urgent", "elevated", "normal") and isinstance(value, int | float)}


def owns_signals(organisation: Organisation | None) -> bool:
    """A desk: a reporting point, or whichever organisation the hub made owner of signals."""
    if organisation is None:
        return False
    return (organisation.type == OrganisationType.REPORTING_POINT
            or Signal.objects.filter(organisation=organisation).exists())


def signals_card(user: User, now: dt.datetime) -> SignalsCard | None:
    """Analysts (and the desk's supervisors and administrators): the open signals.

    "Past target time" is the hub's own rule: a signal's ``target_at`` is its arrival plus the
    codebook's target hours for its urgency band (``hub.triage.target_at``), the same mark the
    queue shows as overdue.
    """
    if not has_capability(user, "hub.queue.view"):
        return None
    if Role.ANALYST not in _roles(user) and not owns_signals(user.organisation):
        return None
    open_signals = hub_selectors.signals_in_queue(user, show="open")
    counts = open_signals.aggregate(
        n=Count("pk"), n_urgent=Count("pk", filter=Q(urgent=True)),
        n_overdue=Count("pk", filter=Q(target_at__lt=now)),
        n_urgent_overdue=Count("pk", filter=Q(urgent=True, target_at__lt=now)))
    oldest = [Item(reference=signal.reference,
                   url=reverse("hub:signal_detail", args=[signal.pk]),
                   since=signal.received_at, urgent=signal.urgent,
                   overdue=bool(hub_selectors.queue_age(signal, now)["overdue"]))
              for signal in open_signals.select_related(None).order_by("received_at", "id")
              .only("pk", "received_at", "urgent", "target_at")[:TOP]]
    return SignalsCard(open=counts["n"], urgent=counts["n_urgent"],
                       overdue=counts["n_overdue"], urgent_overdue=counts["n_urgent_overdue"],
                       oldest=oldest,
                       target_hours=target_hours(), url=reverse("hub:queue"))


def receives_handovers(organisation: Organisation | None) -> bool:
    """A sharing agreement names the organisation as partner, or something reached it."""
    if organisation is None:
        return False
    return (SharingAgreement.objects.filter(partner=organisation, active=True).exists()
            or Handover.objects.filter(partner=organisation).exists())


def inbox_card(user: User, now: dt.datetime) -> InboxCard | None:
    """Partners, and other inbox users (coordinators, analysts of a police unit) whose
    organisation receives handovers: what reached it and nobody there acknowledged yet."""
    if not has_capability(user, "hub.inbox.view"):
        return None
    if Role.PARTNER not in _roles(user) and not receives_handovers(user.organisation):
        return None
    waiting = hub_selectors.handovers_for(user).filter(acknowledged_at__isnull=True)
    # The sender's signal number only: loading the signal would decrypt its texts.
    oldest = [Item(reference=Signal(pk=handover.signal_id).reference,
                   url=reverse("hub:handover_detail", args=[handover.pk]),
                   since=handover.created_at)
              for handover in waiting.select_related(None).order_by("created_at", "id")
              .only("pk", "signal_id", "created_at")[:TOP]]
    return InboxCard(unacknowledged=waiting.count(), oldest=oldest, url=reverse("hub:inbox"))


def watch_card(user: User, now: dt.datetime) -> WatchCard | None:
    """Watch analysts: clusters nobody has opened yet and clusters that grew since.

    Watch is one shared national queue (one crawl under one DPIA), so these counts are the same
    for every watching organisation; only reporting points and police units see them.
    """
    if not watch_allowed(user):
        return None
    new = watch_selectors.clusters_in_queue(state="new")
    top = [Item(reference=cluster.reference, url=reverse("watch:cluster", args=[cluster.pk]),
                note=_("%(ads)s ads, score %(score).1f") % {"ads": cluster.size,
                                                            "score": cluster.score})
           for cluster in new.only("pk", "size", "score")[:TOP]]
    return WatchCard(new=new.count(),
                     grown=watch_selectors.clusters_in_queue(state="grown").count(),
                     top=top, url=reverse("watch:queue"))


def estimates_card(user: User, now: dt.datetime) -> EstimatesCard | None:
    """Researchers (or anyone whose organisation has runs and may estimate): jobs in progress
    and the latest finished ones."""
    if not has_capability(user, "estimate.use"):
        return None
    runs = estimate_selectors.runs_of_organisation(user)
    if Role.RESEARCHER not in _roles(user) and not runs.exists():
        return None
    counts = runs.aggregate(running=Count("pk", filter=Q(status=RunStatus.RUNNING)),
                            queued=Count("pk", filter=Q(status=RunStatus.QUEUED)))

    def item(run: Any) -> Item:
        note: str | Promise = run.get_status_display()
        if run.status == RunStatus.RUNNING:
            note = f"{note} · {round(100 * run.progress)}%"
        return Item(reference=f"#{run.pk}", url=reverse("estimate:detail", args=[run.pk]),
                    since=run.started_at or run.created_at, note=note)

    active = runs.filter(status__in=[RunStatus.RUNNING, RunStatus.QUEUED]).order_by(
        "created_at", "pk")[:TOP]
    finished = runs.filter(status__in=[RunStatus.DONE, RunStatus.FAILED]).order_by(
        "-finished_at", "-pk")[:3]
    return EstimatesCard(running=counts["running"], queued=counts["queued"],
                         active=[item(r) for r in active], finished=[item(r) for r in finished],
                         url=reverse("estimate:list"))


CARDS: Sequence[tuple[str, Callable[[User, dt.datetime], Any]]] = (
    ("helpline", helpline_card), ("signals", signals_card), ("inbox", inbox_card),
    ("watch", watch_card), ("estimates", estimates_card),
)


def live_work(user: User, *, now: dt.datetime | None = None) -> LiveWork:
    """Every card this user gets, each already limited to their organisation and role."""
    if user.organisation_id is None:
        return LiveWork()
    now = now or timezone.now()
    return LiveWork(**{name: build(user, now) for name, build in CARDS})


# --- public pages to share -----------------------------------------------------------------

@dataclass(frozen=True)
class ShareLink:
    label: str | Promise
    url: str  # absolute, to paste into a message or e-mail
    help: str | Promise = ""


def share_links(user: User, absolute: Callable[[str], str]) -> list[ShareLink]:
    """The public chat pages and the public report form, for staff who hand them out.

    A care organisation's staff get their own helpline's chat page; others get every
    helpline's (their names and addresses are public). ``absolute`` turns a path into a full
    URL (``request.build_absolute_uri``).
    """
    if user.organisation_id is None or not _roles(user) & SHARING_ROLES:
        return []
    own = user.organisation
    helplines = Organisation.objects.filter(type=OrganisationType.CARE_NGO)
    if own is not None and own.type == OrganisationType.CARE_NGO:
        helplines = helplines.filter(pk=own.pk)
    links = [ShareLink(label=_("Chat with %(helpline)s") % {"helpline": helpline.name},
                       url=absolute(reverse("helpline:visitor", args=[helpline.slug])),
                       help=_("Anonymous chat for victims and people who worry about someone."))
             for helpline in helplines.order_by("name")[:TOP]]
    links.append(ShareLink(label=_("Report a signal"), url=absolute(reverse("hub:report_new")),
                           help=_("Public form to report a suspicion, anonymously if wished.")))
    return links


# --- refreshing ----------------------------------------------------------------------------

def keep_polling(opened_at: Any, now: dt.datetime) -> bool:
    """Refresh only for half the idle timeout after the page was loaded.

    Every refresh renews the session, so a home page left open would otherwise keep a signed-in
    session alive for ever and defeat the idle timeout; this way an unattended page still ends
    the session at most half an idle period late.
    """
    if not isinstance(opened_at, int | float):
        return False
    limit = max(POLL_SECONDS, settings.IDLE_TIMEOUT_MINUTES * 60 / 2)
    return 0 <= now.timestamp() - opened_at < limit
