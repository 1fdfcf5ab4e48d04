"""Hub intake benchmark: signals per second through the partner API into PostgreSQL.

Each request is a full ``POST /api/v1/signals/`` with a token and an ``Idempotency-Key``:
JSON parsing, validation against the codebook, coding, explainable scoring, routing, two
persons with encrypted fields, HMAC linkage keys and a Bloom encoding, the idempotency
record and the hash-chained audit entry — all committed to PostgreSQL. The requests run
in-process through Django's handler (no socket), one after another.

Baseline in the same run: ``services.signal_submit`` called directly (the same work without
HTTP, authentication, JSON and the idempotency record), so the API's own cost is visible.

``python bench/hub_intake.py [--n 1000] [--db zb_hub_bench] [--keep]`` — creates (and drops,
unless ``--keep``) a scratch database on postgres://postgres@127.0.0.1:5432. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432"
GIVEN = ["Ana", "Bo", "Cas", "Dana", "Eli", "Fenna", "Gijs", "Hira", "Ivo", "Jun"]
SURNAMES = ["Testova", "Voorbeeld", "Proefmans", "Fictief", "Dummy", "Synthetisch"]


def recreate(db: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')


def drop(db: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')


def payloads(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Synthetic, varied signals coded with the real codebook (fixed seed)."""
    from zichtbaar.hub import codebook, services

    book = codebook.Codebook(services.current_codebook().data)
    codes, forms = sorted(book.indicators), sorted(book.forms)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        born = f"{rng.randint(1960, 2010)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        persons = [{"role": "victim", "given_name": rng.choice(GIVEN),
                    "surname": rng.choice(SURNAMES), "date_of_birth": born,
                    "phone": f"+3161{rng.randint(1000000, 9999999)}"},
                   {"role": "suspect", "surname": rng.choice(SURNAMES)}]
        out.append({"external_ref": f"bench-{i}", "description": "Synthetisch benchmarksignaal.",
                    "municipality": "Utrecht", "forms": rng.sample(forms, rng.randint(0, 2)),
                    "indicators": rng.sample(codes, rng.randint(1, 6)),
                    "minor": rng.choice([True, False, None]), "persons": persons})
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(name: str, latencies: list[float], wall: float) -> None:
    ms = [v * 1000 for v in latencies]
    print(f"  {name:<34} {len(ms) / wall:8.1f} signals/s   p50 {percentile(ms, .5):6.1f} ms   "
          f"p99 {percentile(ms, .99):6.1f} ms   mean {statistics.fmean(ms):6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="signals per path (default 1000)")
    parser.add_argument("--db", default="zb_hub_bench")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    recreate(args.db)
    os.environ["DATABASE_URL"] = f"{PG}/{args.db}"
    os.environ.setdefault("ZICHTBAAR_DATA_DIR", str(ROOT / "var" / "bench-hub"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zichtbaar.project.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from zichtbaar.accounts.roles import OrganisationType
    from zichtbaar.accounts.services import organisation_create
    from zichtbaar.hub import services
    from zichtbaar.hub.api import SignalInSerializer
    from zichtbaar.hub.models import Channel, Signal

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"database {args.db} migrated in {time.perf_counter() - started:.1f} s "
              f"(PostgreSQL {connection.pg_version / 10000:.0f})")
        organisation_create(name="Meldpunt Bench", type=OrganisationType.REPORTING_POINT)
        partner = organisation_create(name="Inspectie Bench",
                                      type=OrganisationType.LABOUR_INSPECTORATE)
        _token, plain = services.api_token_create(actor=None, organisation=partner,
                                                  name="bench")
        bodies = payloads(args.n + 20)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")

        def post(i: int, body: dict[str, Any]) -> float:
            t0 = time.perf_counter()
            response = client.post("/api/v1/signals/", body, content_type="application/json",
                                   HTTP_IDEMPOTENCY_KEY=f"bench-{i}")
            elapsed = time.perf_counter() - t0
            if response.status_code != 201:
                raise SystemExit(f"request {i}: {response.status_code} {response.content[:300]!r}")
            return elapsed

        for i, body in enumerate(bodies[:20]):  # warm-up: caches, codebook, prepared paths
            post(i, body)
        wall0 = time.perf_counter()
        api = [post(i, body) for i, body in enumerate(bodies[20:], start=20)]
        api_wall = time.perf_counter() - wall0

        direct = []
        wall0 = time.perf_counter()
        for body in bodies[20:]:
            serializer = SignalInSerializer(data=body)
            serializer.is_valid(raise_exception=True)
            data = serializer.to_input()
            t0 = time.perf_counter()
            services.signal_submit(channel=Channel.API, data=data, source_organisation=partner)
            direct.append(time.perf_counter() - t0)
        direct_wall = time.perf_counter() - wall0

        urgent = Signal.objects.filter(urgent=True).count()
        routed = sum(1 for s in Signal.objects.only("routing_proposal") if s.routing_proposal)
        total = Signal.objects.count()
        print(f"{args.n} signals per path, sequential, one process "
              f"({os.cpu_count()} CPUs on this machine)")
        report("partner API (HTTP in-process)", api, api_wall)
        report("baseline: services.signal_submit", direct, direct_wall)
        print(f"  stored {total} signals; {urgent} urgent; {routed} with a routing proposal")
    finally:
        if not args.keep:
            drop(args.db)


if __name__ == "__main__":
    main()
