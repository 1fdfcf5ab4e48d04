"""Monitor at national scale: the annual chat report and the national dashboard tables for
1,000,000 hub signals and 200,000 coded helpline chats (synthetic), next to a plain pandas
group-by of the same tables in the same run; plus secondary suppression of a 50 × 50 table.

``python bench/monitor.py [--signals 1000000] [--chats 200000] [--handovers 100000] [--keep]``

Runs on PostgreSQL: it creates the database ``zichtbaar_bench_monitor`` on
``BENCH_PG`` (default ``postgres://postgres@127.0.0.1:5432``), fills it with ``bulk_create``
and drops it at the end (``--keep`` leaves it for a second look). Prints figures; asserts
nothing. Targets (issue 11): report under 30 s; 50 × 50 suppression under 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

DB_NAME = "zichtbaar_bench_monitor"
BATCH = 10_000


def _admin_sql(server: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(statement)


@contextmanager
def _timed(label: str, figures: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    figures[label] = time.perf_counter() - started
    print(f"  {label}: {figures[label]:.2f} s", flush=True)


def _batches(make: Callable[[int], Any], total: int) -> Iterator[list[Any]]:
    for start in range(0, total, BATCH):
        yield [make(i) for i in range(start, min(start + BATCH, total))]


def _fill(args: argparse.Namespace, year: int, rng: random.Random) -> dict[str, Any]:
    """Synthetic organisations, signals, handovers, chats and codings (bulk_create only)."""
    from django.db import connection
    from django.utils import timezone

    from zichtbaar.accounts import services as accounts
    from zichtbaar.accounts.roles import OrganisationType
    from zichtbaar.helpline.models import Coding, Conversation, ReturningVisitor
    from zichtbaar.hub import services as hub_services
    from zichtbaar.hub.models import Channel, Handover, Outcome, SharingAgreement, Signal, Status
    from zichtbaar.hub.sharing import LegalBasis

    kinds = OrganisationType
    helplines = [accounts.organisation_create(name=f"Hulplijn {i}", type=kinds.CARE_NGO)
                 for i in range(2)]
    desks = [accounts.organisation_create(name=f"Meldpunt {i}", type=kinds.REPORTING_POINT)
             for i in range(3)]
    partners = [accounts.organisation_create(name=name, type=kind) for name, kind in (
        ("Politie", kinds.POLICE), ("Arbeidsinspectie", kinds.LABOUR_INSPECTORATE),
        ("Veilig Thuis", kinds.VEILIG_THUIS), ("Gemeente", kinds.MUNICIPALITY))]
    codebook, rules = hub_services.current_codebook(), hub_services.current_routing_rules()
    zone = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    seconds = int((dt.datetime(year + 1, 1, 1, tzinfo=zone) - start).total_seconds())
    channels = list(Channel.values)
    statuses = [Status.NEW, Status.CLOSED, Status.CLOSED, Status.MERGED] + [Status.NEW] * 6
    forms = ["sexual", "labour", "criminal", "other"]

    def signal(i: int) -> Signal:
        received = start + dt.timedelta(seconds=rng.randrange(seconds))
        return Signal(organisation=desks[i % len(desks)], channel=rng.choice(channels),
                      received_at=received, status=rng.choice(statuses),
                      target_at=received + dt.timedelta(days=2), codebook=codebook,
                      routing_rules=rules, forms=[rng.choice(forms)],
                      minor=rng.random() < 0.2, score=rng.randrange(100))

    print(f"filling: {args.signals:,} signals, {args.handovers:,} handovers, "
          f"{args.chats:,} chats", flush=True)
    figures: dict[str, float] = {}
    with _timed("bulk_create signals", figures):
        for batch in _batches(signal, args.signals):
            Signal.objects.bulk_create(batch, batch_size=BATCH)
    agreements = {(d.pk, p.pk): SharingAgreement.objects.create(
        organisation=d, partner=p, legal_basis=LegalBasis.PUBLIC_TASK, purpose="bench",
        allowed_fields=["forms"]) for d in desks for p in partners}
    first_id = Signal.objects.order_by("pk").values_list("pk", flat=True).first() or 0
    outcomes = [*Outcome.values, ""]
    handed = rng.sample(range(args.signals), min(args.handovers, args.signals))

    def handover(i: int) -> Handover:
        signal_id = first_id + handed[i]
        desk = desks[(signal_id - first_id) % len(desks)]
        partner = partners[i % len(partners)]
        return Handover(signal_id=signal_id, partner=partner,
                        agreement=agreements[(desk.pk, partner.pk)],
                        legal_basis=LegalBasis.PUBLIC_TASK, purpose="bench", payload="{}",
                        outcome=rng.choice(outcomes))

    with _timed("bulk_create handovers", figures):
        for batch in _batches(handover, len(handed)):
            Handover.objects.bulk_create(batch, batch_size=BATCH)
        with connection.cursor() as cursor:  # handed over a few hours after arrival
            cursor.execute("UPDATE hub_handover h SET created_at = s.received_at + "
                           "interval '5 hours' FROM hub_signal s WHERE h.signal_id = s.id")
        # The signal desk's own organisation is the signal's owner in compute.hub.
    visitors = []
    with _timed("bulk_create chats and codings", figures):
        for n in range(args.chats // 5):  # a fifth of the chats come from returning visitors
            visitors.append(ReturningVisitor(organisation=helplines[n % 2],
                                             code_hash=f"{n:064x}", first_seen=start.date()))
        ReturningVisitor.objects.bulk_create(visitors, batch_size=BATCH)
        visitor_ids = list(ReturningVisitor.objects.values_list("pk", "organisation_id"))
        roles = ["victim"] * 5 + ["reporter"] * 3 + ["unknown"]
        bands = ["under_12", "12_15", "16_17", "18_23", "24_plus", "unknown"]

        def conversation(i: int) -> Conversation:
            returning = i % 3 == 0 and visitor_ids
            visitor, org = (rng.choice(visitor_ids) if returning
                            else (None, helplines[i % 2].pk))
            return Conversation(organisation_id=org, visitor_id=visitor, status="ended",
                                age_band=rng.choice(bands), consent=True)

        for batch in _batches(conversation, args.chats):
            Conversation.objects.bulk_create(batch, batch_size=BATCH)
        days = 365

        def values() -> dict[str, Any]:
            return {"visitor_role": rng.choice(roles),
                    "help_question_trafficking": rng.choice(["yes", "yes", "no", "unsure"]),
                    "exploitation_forms": rng.sample(forms, rng.choice([1, 1, 1, 2])),
                    "perpetrator_relation": [rng.choice(["parent", "network",
                                                         "partner_loverboy", "stranger"])],
                    "first_disclosure": rng.choice(["yes", "no", "unknown"]),
                    "duration": rng.choice(["under_1y", "1_5y", "5y_plus", "unknown"]),
                    "age_band": rng.choice(bands)}

        conversations = Conversation.objects.order_by("pk").values_list("pk", "organisation_id")
        pending: list[Coding] = []
        for conv_id, org in conversations.iterator(chunk_size=BATCH):
            pending.append(Coding(conversation_id=conv_id, organisation_id=org,
                                  codebook_version="2026.1", values=values(),
                                  complete=rng.random() < 0.95,
                                  chat_date=start.date() + dt.timedelta(
                                      days=rng.randrange(days))))
            if len(pending) >= BATCH:
                Coding.objects.bulk_create(pending, batch_size=BATCH)
                pending = []
        Coding.objects.bulk_create(pending, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return figures


# --- baseline: the same tables with a plain pandas group-by ---------------------------------

def _frame(sql: str, params: list[Any]) -> Any:
    import pandas as pd
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c.name for c in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def pandas_report(year: int) -> dict[str, Any]:
    """CKM's counts with pandas: one person per returning visitor, else per chat."""
    import pandas as pd

    df = _frame("SELECT c.organisation_id AS org, c.conversation_id AS chat, "
                "v.visitor_id AS visitor, c.values AS v FROM helpline_coding c "
                "JOIN helpline_conversation v ON v.id = c.conversation_id "
                "WHERE c.complete AND c.chat_date >= %s AND c.chat_date < %s",
                [dt.date(year, 1, 1), dt.date(year + 1, 1, 1)])
    df["person"] = [f"v{v}" if pd.notna(v) else f"c{c}"
                    for v, c in zip(df["visitor"], df["chat"], strict=True)]
    values = pd.json_normalize([json.loads(v) if isinstance(v, str) else v for v in df["v"]])
    df = pd.concat([df[["org", "person"]], values], axis=1)
    df["rank"] = df["visitor_role"].map({"victim": 2, "reporter": 1}).fillna(0)
    df["yes"] = df["help_question_trafficking"] == "yes"
    people = df.groupby(["org", "person"]).agg(rank=("rank", "max"), trafficking=("yes", "max"))
    people["role"] = people["rank"].map({2: "victim", 1: "reporter", 0: "unknown"})
    visitors = people.groupby("org").size()
    trafficking = people[people["trafficking"]]
    roles = trafficking.groupby(["org", "role"]).size()
    forms = (df.explode("exploitation_forms").groupby(["org", "exploitation_forms"])
             ["person"].nunique())
    return {"visitors": visitors.to_dict(), "trafficking": trafficking.groupby("org").size()
            .to_dict(), "roles": roles.to_dict(), "forms": forms.to_dict()}


def pandas_dashboard(year: int) -> dict[str, Any]:
    """Signals per organisation × channel, handovers per partner type × outcome, median hours
    from arrival to first handover per organisation."""
    since, until = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    signals = _frame("SELECT organisation_id AS org, channel FROM hub_signal WHERE "
                     "received_at >= %s AND received_at < %s AND status <> 'merged'",
                     [since, until])
    per_channel = signals.groupby(["org", "channel"]).size()
    handovers = _frame("SELECT h.signal_id, h.partner_id, o.type, h.outcome, h.created_at, "
                       "s.organisation_id AS org, s.received_at FROM hub_handover h "
                       "JOIN accounts_organisation o ON o.id = h.partner_id "
                       "JOIN hub_signal s ON s.id = h.signal_id", [])
    in_year = handovers[(handovers["created_at"].dt.date >= since)
                        & (handovers["created_at"].dt.date < until)]
    per_partner = in_year.groupby(["partner_id", "type", "outcome"]).size()
    first = handovers.groupby(["org", "signal_id"]).agg(
        first=("created_at", "min"), received=("received_at", "first")).reset_index()
    first = first[(first["first"].dt.date >= since) & (first["first"].dt.date < until)]
    first["hours"] = (first["first"] - first["received"]).dt.total_seconds().clip(lower=0) / 3600
    return {"per_channel": per_channel.to_dict(), "per_partner": per_partner.to_dict(),
            "median_hours": first.groupby("org")["hours"].median().to_dict()}


# --- the platform path ---------------------------------------------------------------------

HELPLINE_TABLES = [("AL3-10", None), ("AL3-03", None), ("AL3-11", "visitor_role"),
                   ("AL3-12", "form"), ("AL3-04", None), ("AL3-05", None),
                   ("AL3-06", "duration"), ("AL3-13", None)]
DASHBOARD_TABLES = [("AL1-19", "channel"), ("AL1-20", "partner_type"), ("AL1-21", "outcome"),
                    ("AL1-22", None), ("AL1-23", "label"), ("AL1-24", None),
                    *HELPLINE_TABLES, ("AL1-18", None)]


def platform_report(year: int, figures: dict[str, float]) -> Any:
    """The annual chat report's numbers: report.py's build when it exists, else
    ``compute.helpline`` + the protected tables."""
    from zichtbaar.monitor import compute, publish, services

    try:
        from zichtbaar.monitor import report as report_mod
    except ImportError:
        report_mod = None
    build = getattr(report_mod, "build", None)
    if build is not None:
        try:
            with _timed("report: report.build (national)", figures):
                return build(year=year)
        except Exception as exc:  # report.py is young; the figures still come from compute
            print(f"  report.build failed ({type(exc).__name__}: {exc}); timing compute instead")
    with _timed("report: compute.helpline", figures):
        rows = compute.helpline(year)
    with _timed("report: values_store", figures):
        services.values_store(rows, year)
    with _timed("report: protected tables", figures):
        tables = [publish.indicator_table(i, audience="national", by=by, periods=[year])
                  for i, by in HELPLINE_TABLES]
    return rows, tables


def platform_dashboard(year: int, figures: dict[str, float]) -> Any:
    from zichtbaar.monitor import compute, publish, services

    parts = {}
    for part in compute.PARTS:
        with _timed(f"dashboard: compute.{part.__name__}", figures):
            parts[part.__name__] = part(year)
    rows = [row for found in parts.values() for row in found]
    with _timed("dashboard: values_store", figures):
        services.values_store(rows, year)
    with _timed("dashboard: protected tables", figures):
        tables = [publish.indicator_table(i, audience="national", by=by,
                                          periods=list(range(year - 4, year + 1)))
                  for i, by in DASHBOARD_TABLES]
    return rows, tables


def suppression_50x50(figures: dict[str, float]) -> tuple[Any, Any]:
    """A 50 × 50 table where 6% of the cells are small: most rows and columns hold a single
    small cell, so every one needs complementary suppressions."""
    import numpy as np

    from zichtbaar.disclosure import protect_table

    rng = np.random.default_rng(50)
    counts = rng.poisson(40, size=(50, 50))
    small = rng.random((50, 50)) < 0.06  # about 150 small cells spread over the table
    counts[small] = rng.integers(1, 5, size=int(small.sum()))
    with _timed("protect_table 50x50 (MILP)", figures):
        table = protect_table(counts)
    started = time.perf_counter()
    greedy = protect_table(counts, method="greedy")
    figures["protect_table 50x50 (greedy)"] = time.perf_counter() - started
    return counts, (table, greedy)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=200_000)
    parser.add_argument("--handovers", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="leave the bench database")
    args = parser.parse_args()
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    _admin_sql(server, f"DROP DATABASE IF EXISTS {DB_NAME}")
    _admin_sql(server, f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = f"{server}/{DB_NAME}"
    os.environ["ZICHTBAAR_DATA_DIR"] = tempfile.mkdtemp(prefix="zb-bench-monitor-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zichtbaar.project.settings")
    try:
        _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin_sql(server, f"DROP DATABASE IF EXISTS {DB_NAME}")


def _run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", "--no-input", "-v", "0")
    year = timezone.localdate().year - 1
    _fill(args, year, random.Random(11))
    figures: dict[str, float] = {}

    print("(a) annual chat report", flush=True)
    started = time.perf_counter()
    platform_report(year, figures)
    report_s = time.perf_counter() - started
    with _timed("report baseline: pandas group-by", figures):
        baseline = pandas_report(year)
    from zichtbaar.monitor import compute

    helpline_rows = {(r.indicator_id, r.organisation_id, tuple(sorted(r.dims.items()))): r.value
                     for r in compute.helpline(year)}
    same = all(helpline_rows.get(("AL3-10", org, ())) == n
               for org, n in baseline["visitors"].items())
    print(f"  unique visitors agree with pandas: {same}")

    print("(b) national dashboard", flush=True)
    started = time.perf_counter()
    platform_dashboard(year, figures)
    dashboard_s = time.perf_counter() - started
    with _timed("dashboard baseline: pandas group-by", figures):
        pandas_dashboard(year)

    print("(c) secondary suppression", flush=True)
    counts, (table, greedy) = suppression_50x50(figures)
    small = int(((counts > 0) & (counts < 5)).sum())
    secondary = sum(1 for line in table.grid for c in line if c == "x")
    secondary_greedy = sum(1 for line in greedy.grid for c in line if c == "x")

    print("\nfigures")
    print(f"  report (platform path): {report_s:.1f} s vs pandas "
          f"{figures['report baseline: pandas group-by']:.1f} s "
          f"({report_s / figures['report baseline: pandas group-by']:.1f}x); target < 30 s: "
          f"{'met' if report_s < 30 else 'MISSED'}")
    print(f"  dashboard (platform path): {dashboard_s:.1f} s vs pandas "
          f"{figures['dashboard baseline: pandas group-by']:.1f} s "
          f"({dashboard_s / figures['dashboard baseline: pandas group-by']:.1f}x)")
    print(f"  50x50 suppression: {figures['protect_table 50x50 (MILP)']:.2f} s optimal "
          f"({small} primary, {secondary} secondary, method {table.method}) vs greedy "
          f"{figures['protect_table 50x50 (greedy)']:.2f} s ({secondary_greedy} secondary); "
          f"target < 5 s: "
          f"{'met' if figures['protect_table 50x50 (MILP)'] < 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
