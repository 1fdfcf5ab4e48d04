"""Exports of protected tables: CSV and XLSX round trips, formula injection, and the
international layouts of research/monitor.md §2.1 (SDG 16.2.2, Eurostat crim_thb, GLOTIP)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from zichtbaar.monitor import exports, publish, services
from zichtbaar.monitor.compute import Row
from zichtbaar.monitor.services import Provenance

pytestmark = pytest.mark.django_db

PROV = Provenance(publication="Synthetisch overzicht", as_of=dt.date(2026, 6, 1))
BOM = b"\xef\xbb\xbf"


def _enter(actor: Any, indicator: str, value: float, dims: dict[str, str] | None = None, *,
           year: int = 2025, source: str = "nr", **extra: Any) -> None:
    services.value_enter(actor=actor, indicator_id=indicator, period=year, dims=dims or {},
                         value=value, provenance=PROV, source=source, **extra)


def _form_table(researcher: Any) -> publish.Table:
    for form, n in {"sexual": 120, "labour": 40, "criminal": 3, "other": 25}.items():
        _enter(researcher, "AL1-01", n, {"form": form})
    return publish.indicator_table("AL1-01", audience="public", by="form")


def _csv(data: bytes, delimiter: str) -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def _sheet_values(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [[c.value for c in line] for line in sheet.iter_rows()]


# --- round trips -------------------------------------------------------------------------

def test_csv_is_dutch_excel_with_bom_and_shows_small_count_as_its_sign(researcher) -> None:  # type: ignore[no-untyped-def]
    table = _form_table(researcher)
    lines = _csv(exports.csv_bytes(table), ";")
    assert lines[0] == [table.title]
    head = lines.index([table.row_header, *table.col_labels])
    data = lines[head + 1]
    assert data[0] == "2025"
    by_key = dict(zip(table.col_keys, data[1:], strict=True))
    assert by_key["criminal"] == "<5"
    assert "3" not in data[1:]
    assert by_key["sexual"] == "120"
    text = "\n".join(line[0] for line in lines if line)
    assert table.rule_version in text and "2026" in text  # rule version, "as published on"
    assert any("<5" in line[0] for line in lines[head + 2:] if line)  # the legend


def test_xlsx_round_trip_keeps_numbers_as_numbers_and_hides_the_small_count(researcher) -> None:  # type: ignore[no-untyped-def]
    table = _form_table(researcher)
    rows = _sheet_values(exports.xlsx_bytes(table))
    assert rows[0][0] == table.title
    head = next(i for i, r in enumerate(rows) if r[0] == table.row_header)
    data = dict(zip(table.col_keys, rows[head + 1][1:], strict=False))
    assert data["criminal"] == "<5"
    assert data["sexual"] == 120 and isinstance(data["sexual"], int)
    assert 3 not in rows[head + 1] and "3" not in rows[head + 1]
    flat = [str(v) for r in rows for v in r if v is not None]
    assert any(table.rule_version in v for v in flat)
    assert not any(exports.banner() in v for v in flat)  # a protected table has no banner


def test_internal_table_carries_the_not_for_publication_banner(research_org) -> None:  # type: ignore[no-untyped-def]
    services.values_store([Row("AL3-10", {}, 3, research_org.pk, "helpline")], 2025)
    table = publish.indicator_table("AL3-10", audience="internal", organisation=research_org)
    lines = _csv(exports.csv_bytes(table), ";")
    assert lines[0] == [exports.banner()]
    assert ["2025", "3"] in lines  # exact inside the organisation
    assert _sheet_values(exports.xlsx_bytes(table))[0][0] == exports.banner()
    assert exports.filename(table, "csv").endswith("-intern.csv")


def test_decimal_comma_in_dutch_csv_and_point_in_json(researcher) -> None:  # type: ignore[no-untyped-def]
    _enter(researcher, "AL1-01", 944, year=2024)
    _enter(researcher, "AL1-00", 17942942, year=2024, source="cbs")
    services.values_derive(actor=researcher)
    table = publish.indicator_table("AL1-02", audience="public")
    lines = _csv(exports.csv_bytes(table), ";")
    assert ["2024", "5,3"] in lines
    assert exports.table_json(table)["rows"][0]["cells"][0]["value"] == pytest.approx(5.26, abs=0.01)


# --- formula injection -------------------------------------------------------------------

EVIL = ["=HYPERLINK(\"http://x\")", "+31 6 1234", "-2+3", "@SUM(A1)"]


def _evil_table() -> publish.Table:
    return publish.count_table(
        "evil", EVIL[0], row_header=EVIL[3], rows=[("a", EVIL[1]), ("b", EVIL[2])],
        cols=[("c", EVIL[0]), ("d", "gewoon")],
        counts={("a", "c"): 20, ("a", "d"): 30, ("b", "c"): 40, ("b", "d"): 50},
        audience="public")


def test_csv_neutralises_formulas_in_labels() -> None:
    lines = _csv(exports.csv_bytes(_evil_table()), ";")
    fields = [f for line in lines for f in line]
    for text in EVIL:
        assert text not in fields
        assert "'" + text in fields


def test_xlsx_stores_formula_like_labels_as_text() -> None:
    sheet = load_workbook(io.BytesIO(exports.xlsx_bytes(_evil_table()))).active
    cells = [c for line in sheet.iter_rows() for c in line if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells}
    assert set(EVIL) <= texts  # shown as written, but as text


# --- international layouts ---------------------------------------------------------------

CROSS = {  # registered victims 2025 by sex × age band × form (synthetic)
    ("female", "16_17", "sexual"): 40, ("female", "24_plus", "sexual"): 120,
    ("female", "18_23", "labour"): 2, ("male", "24_plus", "labour"): 90,
    ("male", "16_17", "criminal"): 14, ("male", "24_plus", "criminal"): 30,
    ("female", "24_plus", "labour"): 35, ("male", "18_23", "sexual"): 12,
}


@pytest.fixture
def cross(researcher: Any) -> Any:
    for (sex, age, form), n in CROSS.items():
        _enter(researcher, "AL1-01", n, {"sex": sex, "age_band": age, "form": form})
    _enter(researcher, "AL1-01", sum(CROSS.values()))
    _enter(researcher, "AL1-00", 18_000_000, source="cbs")
    _enter(researcher, "AL1-18", 5000, lower=4000, upper=7000, source="wodc")
    _enter(researcher, "AL1-18", 2100, {"form": "sexual"}, source="wodc")
    _enter(researcher, "AL1-18", 3, {"form": "other"}, source="wodc")
    return researcher


def _records(table: publish.Table) -> dict[tuple[str, ...], dict[str, publish.Cell]]:
    return {tuple(k.split(publish.KEY_SEP)): dict(zip(table.col_keys, cells, strict=True))
            for k, cells in zip(table.row_keys, table.cells, strict=True)}


def _intl_header(table: publish.Table) -> list[str]:
    return _csv(exports.csv_bytes(table), ",")[0]


def test_sdg_16_2_2_layout_has_both_variants_labelled(cross) -> None:  # type: ignore[no-untyped-def]
    table = publish.shape_table("sdg_16_2_2", years=[2025])
    assert _intl_header(table) == [
        "variant", "geo", "year", "sex", "age", "form", "victims", "victims_lower",
        "victims_upper", "population", "per_100000", "per_100000_lower", "per_100000_upper",
        "flag"]
    found = _records(table)
    assert {k[0] for k in found} == {"detected", "estimated"}
    total = found[("detected", "NL", "2025", "total", "total", "total")]
    assert total["victims"].text == str(sum(CROSS.values()))
    assert total["per_100000"].value == pytest.approx(sum(CROSS.values()) / 180)
    girls = found[("detected", "NL", "2025", "female", "minor", "sexual")]
    assert girls["victims"].text == "40"
    assert girls["per_100000"].value == pytest.approx(40 / 180, abs=0.05)
    estimated = found[("estimated", "NL", "2025", "total", "total", "total")]
    assert (estimated["victims"].text, estimated["victims_lower"].text,
            estimated["victims_upper"].text) == ("5000", "4000", "7000")
    assert estimated["per_100000"].value == pytest.approx(27.8, abs=0.05)
    small = found[("estimated", "NL", "2025", "total", "total", "other")]
    assert small["victims"].text == "<5" and small["per_100000"].text == "x"
    assert table.audience == "national" and table.threshold == 10  # minors in the cross


def test_sdg_rate_of_a_suppressed_count_is_suppressed(cross) -> None:  # type: ignore[no-untyped-def]
    table = publish.shape_table("sdg_16_2_2", years=[2025])
    for codes, cells in _records(table).items():
        if codes[0] == "detected" and cells["victims"].value is None:
            assert cells["per_100000"].value is None, codes
    intl = _csv(exports.csv_bytes(table), ",")
    assert "2" not in {line[6] for line in intl[1:]}  # the 2 female 18–23 in labour
    assert any(line[-1] == "c" for line in intl[1:])


def test_eurostat_form_layout_merges_only_shown_cells(researcher) -> None:  # type: ignore[no-untyped-def]
    for form, n in {"sexual": 120, "labour": 40, "criminal": 3, "other": 25,
                    "organ_removal": 9}.items():
        _enter(researcher, "AL1-01", n, {"form": form})
    table = publish.shape_table("eurostat_crim_thb_form", years=[2025])
    assert _intl_header(table) == ["geo", "year", "form", "persons", "flag"]
    found = {k[2]: cells["persons"] for k, cells in _records(table).items()}
    assert list(found) == ["sexual", "forced_labour", "other", "total"]
    assert found["sexual"].text == "120" and found["forced_labour"].text == "40"
    # "other" holds the hidden criminal 3: merged, it must stay hidden, not show 37.
    assert found["other"].value is None


def test_eurostat_status_layout(researcher) -> None:  # type: ignore[no-untyped-def]
    _enter(researcher, "AL1-01", 600, {"sex": "female"})
    _enter(researcher, "AL1-01", 300, {"sex": "male"})
    _enter(researcher, "AL1-01", 900)
    _enter(researcher, "AL1-08", 170, {"measure": "suspects"}, source="politie")
    _enter(researcher, "AL1-09", 311, source="om")
    _enter(researcher, "AL1-11", 100, {"measure": "convictions", "sex": "male"}, source="rvdr")
    _enter(researcher, "AL1-11", 3, {"measure": "convictions", "sex": "female"},
           source="rvdr")
    table = publish.shape_table("eurostat_crim_thb_status", years=[2025])
    assert _intl_header(table) == ["geo", "year", "leg_stat", "sex", "persons", "flag"]
    found = _records(table)
    assert [k[2] for k in found] == ["victims"] * 3 + ["suspected", "prosecuted"] + \
        ["convicted"] * 3
    assert found[("NL", "2025", "victims", "female")]["persons"].text == "600"
    assert found[("NL", "2025", "suspected", "total")]["persons"].text == "170"
    assert found[("NL", "2025", "convicted", "female")]["persons"].text == "<5"
    assert found[("NL", "2025", "convicted", "male")]["persons"].value is None  # complement


def test_eurostat_citizenship_and_sex_age_layouts(cross) -> None:  # type: ignore[no-untyped-def]
    for group, n in {"nl": 300, "eu": 200, "non_eu": 150}.items():
        _enter(cross, "AL1-01", n, {"nationality_group": group})
    for (sex, age), n in {("female", "16_17"): 40, ("female", "24_plus"): 157,
                          ("male", "16_17"): 14, ("male", "24_plus"): 120}.items():
        _enter(cross, "AL1-01", n, {"sex": sex, "age_band": age})
    citizens = publish.shape_table("eurostat_crim_thb_citizenship", years=[2025])
    assert _intl_header(citizens) == ["geo", "year", "citizen", "persons", "flag"]
    assert [k[2] for k in _records(citizens)] == ["reporting_country", "other_eu", "non_eu",
                                                  "total"]
    vsage = publish.shape_table("eurostat_crim_thb_vsage", years=[2025])
    assert _intl_header(vsage) == ["geo", "year", "sex", "age", "persons", "flag"]
    found = _records(vsage)
    assert found[("NL", "2025", "male", "minor")]["persons"].text == "14"
    assert found[("NL", "2025", "female", "adult")]["persons"].text == "157"
    assert found[("NL", "2025", "female", "total")]["persons"].text == "197"  # margins
    assert found[("NL", "2025", "total", "adult")]["persons"].text == "277"


GLOTIP_GROUP = {("female", "16_17"): "girls", ("male", "16_17"): "boys",
                ("female", "18_23"): "women", ("female", "24_plus"): "women",
                ("male", "18_23"): "men", ("male", "24_plus"): "men"}
GLOTIP_FORM = {"sexual": "sexual", "labour": "forced_labour", "criminal": "forced_criminality"}


def test_glotip_layout_women_men_girls_boys_by_form(cross) -> None:  # type: ignore[no-untyped-def]
    table = publish.shape_table("glotip_victims", years=[2025])
    assert _intl_header(table) == ["geo", "year", "group", "form", "persons", "flag"]
    found = _records(table)
    groups = list(dict.fromkeys(k[2] for k in found))
    assert groups == ["women", "men", "girls", "boys", "total"]
    assert {k[3] for k in found} <= {"sexual", "forced_labour", "forced_criminality",
                                     "begging", "forced_marriage", "organ_removal", "mixed",
                                     "other", "total"}
    truth: dict[tuple[str, str], int] = {}
    for (sex, age, form), n in CROSS.items():
        key = (GLOTIP_GROUP[(sex, age)], GLOTIP_FORM[form])
        truth[key] = truth.get(key, 0) + n
    shown = 0
    for (group, form), n in truth.items():
        cell = found[("NL", "2025", group, form)]["persons"]
        assert cell.value is None or cell.value == n, (group, form)
        shown += cell.value is not None
    assert shown >= len(truth) // 2
    # the 2 women in forced labour (with 35 others) are part of a hidden cell
    assert found[("NL", "2025", "women", "forced_labour")]["persons"].value is None


def test_shape_xlsx_and_json_carry_codes_and_legend(cross) -> None:  # type: ignore[no-untyped-def]
    table = publish.shape_table("glotip_victims", years=[2025])
    rows = _sheet_values(exports.xlsx_bytes(table))
    assert rows[2][:4] == ["geo", "year", "group", "form"]
    data = exports.table_json(table)
    assert data["dimensions"] == ["geo", "year", "group", "form"]
    assert data["rows"][0]["codes"]["geo"] == "NL"
    assert all(c["value"] is None for r in data["rows"] for c in r["cells"]
               if c["status"] != "shown")


def test_unknown_shape_is_a_clear_error() -> None:
    with pytest.raises(publish.PublishError):
        publish.shape_table("nope")
