"""The candidate table's df column (issue 14, point 6): filled in, and the fit's own number."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from tests.conftest import verified_client
from zichtbaar.estimate.loglinear import LogLinear
from zichtbaar.estimate.web import engine

pytestmark = pytest.mark.django_db

# Four lists; nobody is on both A and D, so a model with A:D drops those cells and its df
# is not simply 15 cells - 5 main effects - number of terms.
NO_AD_OVERLAP = b"""A,B,C,D,count
1,0,0,0,120
0,1,0,0,90
0,0,1,0,70
0,0,0,1,60
1,1,0,0,30
1,0,1,0,25
0,1,1,0,20
0,1,0,1,12
0,0,1,1,15
1,1,1,0,8
0,1,1,1,5
"""


def _df_cells(page: bytes) -> list[str]:
    """The df column (last cell of each body row) of the candidate table, as shown."""
    doc = lxml_html.fromstring(page)
    tables = doc.xpath("//table[caption[normalize-space()="
                       "'Kandidaatmodellen en selectiestappen']]")
    assert len(tables) == 1
    assert tables[0].xpath("string(.//thead//th[last()])").strip() == "df"
    return [row.xpath("string(./td[last()])").strip() for row in tables[0].xpath(".//tbody/tr")]


def test_stepwise_candidates_carry_df_of_a_known_model(researcher, make_run) -> None:
    run = make_run(researcher, ci="none")
    candidates = run.result["candidates"]
    assert candidates and candidates[0]["model"] == []
    # three lists: 7 observable cells, intercept + 3 main effects -> 3 df for Mt
    assert candidates[0]["df"] == 3
    for cand in candidates:
        assert cand["df"] == 3 - len(cand["model"])


@pytest.mark.parametrize("method", ["stepwise", "aic", "bic"])
def test_df_is_what_the_candidates_own_fit_reports(researcher, make_run, method) -> None:
    run = make_run(researcher, NO_AD_OVERLAP, method=method, ci="none")
    histories = engine.load(NO_AD_OVERLAP, run.parameters)
    candidates = run.result["candidates"]
    assert candidates
    for cand in candidates:
        fit = LogLinear(histories, cand["model"]).fit(check=False)
        assert cand["df"] == fit.df, cand["model"]
    if method != "stepwise":  # the top-ranked candidate is the selected model
        assert candidates[0]["df"] == run.result["fit"]["df"]
    # the A:D cells are dropped, so some model's df is not 15 - 5 - its terms
    with_ad = [c for c in candidates if "A:D" in c["model"]]
    if with_ad:
        assert any(c["df"] != 15 - 5 - len(c["model"]) for c in with_ad)


def test_page_shows_the_df_of_every_candidate(researcher, make_run) -> None:
    run = make_run(researcher, NO_AD_OVERLAP, method="aic", ci="none")
    page = verified_client(researcher).get(f"/estimate/{run.pk}/")
    assert page.status_code == 200
    cells = _df_cells(page.content)
    expected = [str(c["df"]) for c in run.result["candidates"]][: len(cells)]
    assert cells and all(cells)  # none empty, none the "—" of a missing value
    assert cells == expected


def test_runs_stored_without_df_still_render(researcher, make_run) -> None:
    # results stored before the fix have no df: the page shows a dash, not an error
    run = make_run(researcher, ci="none")
    for cand in run.result["candidates"]:
        cand.pop("df", None)
    run.save(update_fields=["result"])
    page = verified_client(researcher).get(f"/estimate/{run.pk}/")
    assert page.status_code == 200
    assert set(_df_cells(page.content)) == {"—"}
