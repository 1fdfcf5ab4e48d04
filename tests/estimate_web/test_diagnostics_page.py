"""The result page shows the checks next to the estimate and their warnings, in both languages."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def _heterogeneous_csv(seed: int = 0) -> bytes:
    """True N 7,000, 70% hard to reach by every list: log-linear models come out far too low."""
    rng = np.random.default_rng(seed)
    p = np.array([0.5, 0.45, 0.4, 0.5])[None, :] * np.where(rng.random(7000) < 0.7, 0.08,
                                                                1.0)[:, None]
    x = rng.random((7000, 4)) < p
    patterns, counts = np.unique(x[x.any(axis=1)].astype(int), axis=0, return_counts=True)
    rows = ["A,B,C,D,count", *(",".join([*map(str, r), str(c)])
                               for r, c in zip(patterns, counts, strict=True))]
    return ("\n".join(rows) + "\n").encode()


def test_result_page_shows_lower_bound_and_heterogeneity_warning(researcher, make_run) -> None:
    run = make_run(researcher, _heterogeneous_csv())
    assert {"below_lower_bound", "models_disagree"} & {w["code"] for w in run.result["warnings"]}
    client = verified_client(researcher)
    html = client.get(f"/estimate/{run.pk}/").content.decode()
    assert "Controles naast de schatting" in html and "Chao-ondergrens" in html
    assert "Rcapture Mh Darroch" in html
    assert "ondergrens" in html.split('class="warnings"')[1] or "heterogeniteitsmodel" in html
    client.cookies["zb_lang"] = "en"
    html = client.get(f"/estimate/{run.pk}/").content.decode()
    assert "Checks next to the estimate" in html and "Chao lower bound" in html
    assert "heterogeneity" in html.split('class="warnings"')[1]


def test_fixture_run_page_has_the_checks_table(researcher, make_run) -> None:
    run = make_run(researcher)
    html = verified_client(researcher).get(f"/estimate/{run.pk}/").content.decode()
    assert "Controles naast de schatting" in html
    sp = run.result["diagnostics"]["sparsity"]
    assert f"{sp['in_two_or_more']} van de {sp['observed']}" in html
