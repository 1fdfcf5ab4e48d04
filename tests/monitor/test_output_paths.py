"""Every path a monitor number leaves by, walked with small synthetic numbers.

The platform's figures here are small on purpose (two or three chats of a kind, a handful of
signals per channel). The walk follows the public dashboard's links, the national dashboard's
links, every table of the JSON API, every CSV and XLSX download of every table with data, and
the national chat report, and fails on any count cell that shows a number below its threshold.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.monitor import publish, report_jobs, services
from zichtbaar.monitor.compute import Row

from .test_report import make_chats, year

pytestmark = pytest.mark.django_db

SMALL = re.compile(r"^[1-4]$")  # below the lowest threshold (5): never printed as a count
CELL = re.compile(r"<td\b[^>]*>(.*?)</td>", re.S)
LINK = re.compile(r'(?:href|src)="(/monitor/[^"#]*)"')


def _cells_of_html(body: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in CELL.findall(body)]


def _no_small(texts: Iterable[Any], where: str) -> int:
    seen = 0
    for text in texts:
        seen += 1
        assert not SMALL.match(str(text).strip()), f"{where}: unprotected small count {text!r}"
    return seen


@pytest.fixture
def small_world(make_org: Callable[..., Organisation], fresh_cache: None, settings,  # type: ignore[no-untyped-def]
                tmp_path: Path) -> Organisation:
    settings.DATA_DIR = tmp_path
    settings.ZICHTBAAR_REPORT_WORKER = "none"
    chats = make_chats(make_org)
    services.values_compute(year())
    org = chats.helpline.pk
    hub = [Row("AL1-19", {"channel": c}, n, org, "hub")
           for c, n in {"chat": 3, "public_form": 40, "professional": 2, "partner_api": 0,
                        "online": 12}.items()]
    hub += [Row("AL1-20", {"partner_type": "police"}, 2, org, "hub"),
            Row("AL1-21", {"outcome": "investigation"}, 1, org, "hub"),
            Row("AL1-21", {"outcome": "pending"}, 1, org, "hub"),
            Row("AL1-24", {}, 3, None, "watch")]
    for past in (year() - 2, year() - 1):
        services.values_store([*hub, Row("AL3-10", {}, 4, org, "helpline"),
                               Row("AL3-03", {}, 2, org, "helpline")], past)
    return make_org("Ministerie Test", OrganisationType.MINISTRY)


def _walk(client: Client, start: str, prefix: str, skip: str = "/monitor/organisation/"
          ) -> dict[str, int]:
    """Fetch ``start`` and every /monitor/ link under ``prefix`` it leads to (two levels);
    ``skip`` is the organisation's own detail, exact by design and checked apart."""
    checked: dict[str, int] = {}
    queue, seen = [start], {start}
    while queue:
        url = queue.pop(0)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        kind = response["Content-Type"]
        body = response.content
        if kind.startswith("text/html"):
            text = body.decode()
            checked[url] = _no_small(_cells_of_html(text), url)
            for link in LINK.findall(text):
                link = html.unescape(link)
                if link.startswith(prefix) and not link.startswith(skip) \
                        and link not in seen and url == start:
                    seen.add(link)
                    queue.append(link)
        elif kind.startswith("text/csv"):
            rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
            checked[url] = _no_small((c for r in rows[1:] for c in r[1:]), url)
        elif kind.startswith("image/svg"):
            checked[url] = 0  # drawn from the same protected table; gaps, never numbers
    return checked


def test_public_dashboard_and_everything_it_links_to(small_world, client: Client) -> None:  # type: ignore[no-untyped-def]
    checked = _walk(client, reverse("monitor:public_dashboard"), "/monitor/public/")
    csvs = [u for u in checked if ".csv" in u]
    assert len(csvs) >= 5 and sum(checked.values()) > 50
    page = client.get(reverse("monitor:public_dashboard")).content.decode()
    assert "<5" in html.unescape(page) or "&lt;5" in page  # small numbers were there
    assert "niet voor publicatie" not in page.lower()


def test_national_dashboard_and_its_downloads(small_world, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.COORDINATOR, small_world)
    checked = _walk(client, reverse("monitor:dashboard"), "/monitor/")
    assert any(".csv" in u for u in checked) and sum(checked.values()) > 50
    own = client.get(reverse("monitor:organisation_detail")).content.decode().lower()
    assert "niet voor publicatie" in own


def _combinations() -> list[tuple[str, str]]:
    book = services.catalogue()
    out = []
    for item in book.indicators.values():
        out.append((item["id"], ""))
        out.extend((item["id"], dim) for dim in item.get("dimensions") or [])
    return [*out, *((shape, "") for shape in publish.SHAPES)]


def test_every_table_of_the_api_and_every_file(small_world, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.COORDINATOR, small_world)
    first, last = year() - 3, year()
    with_data = 0
    for key, by in _combinations():
        params = {"first": first, "last": last, **({"by": by} if by else {})}
        response = client.get(reverse("monitor:export_api_table", args=[key]), params)
        if response.status_code == 400:  # a table that cannot be protected is refused
            continue
        assert response.status_code == 200, (key, by, response.content)
        data = response.json()
        count_like = data["unit"] in publish.COUNT_UNITS
        cells = [c for row in data["rows"] for c in row["cells"]]
        _no_small((c["text"] for c in cells), f"api {key} {by}")
        threshold = data["threshold"]
        for c in cells:
            if c["status"] == "shown" and count_like and threshold and data["key"] in (
                    key, f"{key}.{by}"):
                assert not 0 < c["value"] < threshold, (key, by, c)
        if not any(c["status"] != "missing" for c in cells):
            continue
        with_data += 1
        for fmt in ("csv", "xlsx"):
            download = client.get(reverse("monitor:export_download"),
                                  {**params, "table": key, "format": fmt})
            assert download.status_code == 200, (key, by, fmt, download.content[:300])
            if fmt == "csv":
                text = download.content.decode("utf-8-sig")
                # Platform tables: ";" and a decimal comma; international shapes: ",".
                delimiter = ";" if ";" in text else ","
                rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
                _no_small((c for r in rows[1:] for c in r[1:]), f"csv {key} {by}")
            else:
                book = openpyxl.load_workbook(io.BytesIO(download.content))
                values = [v for sheet in book for line in sheet.iter_rows(values_only=True)
                          for v in line[1:] if v is not None]
                _no_small((v for v in values if not isinstance(v, float)), f"xlsx {key} {by}")
    assert with_data >= 8  # helpline, hub and watch tables all had numbers


def test_the_national_chat_report(small_world, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.COORDINATOR, small_world)
    response = client.post(reverse("monitor:reports"),
                           {"year": str(year()), "language": "nl", "format": "html",
                            "scope": "national"})
    assert response.status_code == 302
    job_id = response["Location"].rstrip("/").split("/")[-1]
    job = report_jobs.run(job_id)
    assert job is not None and job.status == "done"
    download = client.get(reverse("monitor:report_download", args=[job_id]))
    body = b"".join(download.streaming_content).decode()  # type: ignore[attr-defined]
    assert _no_small(_cells_of_html(body), "chat report") > 40
    assert "&lt;5" in body or "<5" in body
