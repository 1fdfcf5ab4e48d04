"""The contract the CLI and the researcher page rely on: keys, CSV, plots, no Django."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from zichtbaar.estimate import api
from zichtbaar.estimate.histories import InputError
from zichtbaar.estimate.loglinear import EstimationError

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mse"
RESULT_KEYS = {"observed", "estimate", "ci", "ci_method", "level", "hidden", "share_invisible",
               "method", "model", "fit", "warnings", "seed", "version", "lists"}
TOP_KEYS = RESULT_KEYS | {"strata", "candidates", "parameters"}


def _person_rows() -> str:
    """One row per person with a covariate; group 'b' has no overlaps, 'c' is tiny."""
    rows = ["politie,kmar,zorg,leeftijd"]
    combos = {"a": [("1,0,0", 60), ("0,1,0", 40), ("0,0,1", 30), ("1,1,0", 12),
                    ("1,0,1", 9), ("0,1,1", 6), ("1,1,1", 2)],
              "b": [("1,0,0", 15), ("0,1,0", 12), ("0,0,1", 5)],
              "c": [("1,1,0", 1), ("1,0,0", 3)]}
    for group, items in combos.items():
        for pattern, n in items:
            rows += [f"{pattern},{group}"] * n
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def uk6() -> api.CaptureHistories:
    return api.load_csv(DATA / "uk6.csv")


@pytest.fixture(scope="module")
def stratified() -> dict:
    h = api.load_csv(_person_rows().encode())
    calls: list[tuple[float, str]] = []
    res = api.run(h, strata="leeftijd", progress=lambda f, t: calls.append((f, t)))
    return {"h": h, "res": res, "calls": calls}


def test_result_has_the_documented_keys_and_is_json(uk6: api.CaptureHistories) -> None:
    res = api.run(uk6)
    assert set(res) >= TOP_KEYS
    assert set(res["fit"]) == {"deviance", "df", "aic", "bic"}
    assert res["method"] == "stepwise" and res["ci_method"] == "profile"
    assert res["model"] == ["PF:NCA", "LA:NG", "NG:GP", "LA:PF", "PF:GP", "GO:GP", "NG:GO"]
    assert res["hidden"] == pytest.approx(res["estimate"] - res["observed"])
    assert res["share_invisible"] == pytest.approx(res["hidden"] / res["estimate"])
    assert res["parameters"] == {"method": "stepwise", "ci": "default", "strata": None,
                                 "seed": 1234, "level": 0.95, "n_boot": 1000, "pthresh": 0.02,
                                 "covariates": None, "mcmc": None}
    assert all({"code", "message_nl", "message_en"} <= set(w) for w in res["warnings"])
    assert res["candidates"][-1]["selected"] and res["candidates"][0]["model"] == []
    again = json.loads(json.dumps(res, allow_nan=False))
    assert again == res


def test_parameters_reproduce_the_run(uk6: api.CaptureHistories) -> None:
    first = api.run(uk6, method="main", ci="profile", level=0.9)
    p = first["parameters"]
    second = api.run(uk6, **{k: v for k, v in p.items() if k != "mcmc"})
    assert second == first


def test_strata_objects_and_insufficient_data(stratified: dict) -> None:
    res = stratified["res"]
    assert res["stratum_column"] == "leeftijd"
    assert res["observed"] == stratified["h"].observed
    a, b, c = res["strata"]
    assert (a["stratum"], b["stratum"], c["stratum"]) == ("a", "b", "c")
    assert a["status"] == "ok" and set(a) >= RESULT_KEYS
    assert a["ci"][0] < a["estimate"] < a["ci"][1]
    for s, code in ((b, "stratum_no_overlap"), (c, "stratum_too_small")):
        assert s["status"] == "insufficient_data" and s["reason_code"] == code
        assert s["estimate"] is None and s["hidden"] is None and s["ci"] == [None, None]
        assert set(s) >= RESULT_KEYS


def test_progress_reported_between_strata(stratified: dict) -> None:
    fractions = [f for f, _ in stratified["calls"]]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert any("leeftijd=b" in t for _, t in stratified["calls"])


def test_progress_reported_during_bootstrap() -> None:
    h = api.load_csv(DATA / "kosovo4.csv")
    calls: list[float] = []
    res = api.run(h, ci="bootstrap", n_boot=50, progress=lambda f, t: calls.append(f))
    assert res["ci_method"] == "bootstrap" and res["bootstrap"]["nboot"] == 50
    assert len(calls) >= 3 and 0 < calls[1] < 1


def test_csv_has_total_and_one_row_per_stratum(stratified: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(api.to_csv(stratified["res"]))))
    assert [r["scope"] for r in rows] == ["total", "stratum", "stratum", "stratum"]
    assert [r["stratum"] for r in rows] == ["", "a", "b", "c"]
    assert float(rows[0]["estimate"]) == pytest.approx(stratified["res"]["estimate"])
    assert rows[2]["status"] == "insufficient_data" and rows[2]["estimate"] == ""


@pytest.mark.parametrize("kind", ["strata", "observed_hidden", "overlap"])
def test_plots_are_png(kind: str, stratified: dict, tmp_path: Path) -> None:
    out = tmp_path / f"{kind}.png"
    api.plot(stratified["res"], kind, out, histories=stratified["h"])
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5000
    buf = io.BytesIO()
    api.plot(stratified["res"], kind, buf, histories=stratified["h"], lang="en")
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_other_methods_through_run() -> None:
    h = api.load_csv(DATA / "kosovo4.csv")
    rc = api.run(h, method="rcapture")
    assert rc["ci_method"] == "profile" and rc["rcapture_model"]
    assert [c["bic"] for c in rc["candidates"] if c["bic"] is not None] == sorted(
        c["bic"] for c in rc["candidates"] if c["bic"] is not None)
    lc = api.run(h, method="lcmcr", mcmc={"burnin": 500, "samples": 200, "thinning": 5})
    assert lc["ci_method"] == "credible" and lc["ci"][0] < lc["estimate"] < lc["ci"][1]
    assert lc["parameters"]["mcmc"] == {"burnin": 500, "samples": 200, "thinning": 5}
    lc2 = api.run(h, method="lcmcr", mcmc={"burnin": 500, "samples": 200, "thinning": 5})
    assert lc2["estimate"] == lc["estimate"]  # seeded
    with pytest.raises(InputError) as err:
        api.run(h, method="lcmcr", ci="bootstrap")
    assert err.value.code == "ci_not_for_method"


def test_covariates_either_fit_or_say_unavailable(stratified: dict) -> None:
    try:
        res = api.run(stratified["h"], covariates=["leeftijd"])
    except EstimationError as exc:
        assert exc.code == "covariates_unavailable"
    else:
        assert "estimate" in res and res["parameters"]["covariates"] == ["leeftijd"]


def test_library_never_imports_django() -> None:
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'django' or name.startswith('django.'):\n"
            "            raise ImportError('django blocked')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import zichtbaar.estimate, zichtbaar.estimate.cli, zichtbaar.estimate.api\n"
            "import zichtbaar.estimate.plots, zichtbaar.estimate.strata\n"
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cli_json_csv_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    out = subprocess.run(
        [sys.executable, "-m", "zichtbaar.cli", "estimate", str(DATA / "rcapture_hiv.csv"),
         "--format", "json", "--plot", str(png), "--plot-kind", "overlap"],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert set(res) >= TOP_KEYS and res["estimate"] == pytest.approx(11124.578, rel=1e-5)
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("method", ["stepwise", "aic", "bic"])
def test_every_candidate_carries_the_df_of_its_own_fit(method: str) -> None:
    """The CLI, JSON and page show df per candidate: the df the candidate's fit reports."""
    from itertools import combinations

    from zichtbaar.estimate.loglinear import LogLinear, term_name

    h = api.load_csv(DATA / "kosovo4.csv")
    result = api.run(h, method=method, ci="none")
    names = {term_name(t, h.lists): t for t in combinations(range(len(h.lists)), 2)}
    assert result["candidates"]
    for candidate in result["candidates"][:5]:
        fit = LogLinear(h, [names[n] for n in candidate["model"]]).fit(check=False)
        assert candidate["df"] == fit.df
    assert len({c["df"] for c in result["candidates"]}) > 1  # not one number for all
