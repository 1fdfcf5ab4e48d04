"""Log-linear MSE over lists x covariates with EM (``zichtbaar.estimate.covariates``).

No R package fits these models, so there are no reference values: the checks
are (1) equality with :mod:`zichtbaar.estimate.loglinear` where the two
models coincide, (2) exact identities (levels add up to the total; a
covariate not in any interaction leaves the total unchanged), and (3)
simulations with known population sizes. Every random draw is seeded, so
every figure below is deterministic; the tolerances say why they are safe.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zichtbaar.estimate.covariates import MESSAGES, CovariateResult, fit_covariate_model
from zichtbaar.estimate.histories import CaptureHistories, InputError
from zichtbaar.estimate.loglinear import EstimationError, LogLinear

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mse"
NED5_TERMS = ["IO:Z", "P:Z", "P:R", "IO:P", "IO:K", "K:R"]  # SparseMSE stepwise; K:R at -inf
NED5_LISTS = ["IO", "K", "P", "R", "Z"]


def _csv(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        raise FileNotFoundError(f"reference data set missing: {path}")
    return path


def _expand(df: pd.DataFrame, count: str = "count") -> pd.DataFrame:
    """One row per person (as a hub export would give)."""
    return df.loc[df.index.repeat(df[count])].drop(columns=count).reset_index(drop=True)


# ------------------------------------------------------- agreement with loglinear
@pytest.mark.parametrize("terms", [[], NED5_TERMS], ids=["main", "stepwise"])
def test_without_covariates_reproduces_loglinear(terms: list[str]) -> None:
    hist = CaptureHistories.from_csv(_csv("ned5.csv"))
    ref = LogLinear(hist, terms).fit()
    res = fit_covariate_model(pd.read_csv(_csv("ned5.csv")), NED5_LISTS, [], count="count",
                              terms=terms, n_boot=0)
    for ours, theirs in [(res.estimate, ref.estimate), (res.hidden, ref.hidden),
                         (res.deviance, ref.deviance), (res.aic, ref.aic), (res.bic, ref.bic),
                         (res.loglik, ref.loglik)]:
        assert ours == pytest.approx(theirs, rel=1e-6)
    assert res.df == ref.df
    assert res.n_params == ref.n_params
    assert set(res.neg_inf) == set(ref.neg_inf_terms)
    assert res.observed == ref.observed == 8234
    assert res.hidden == pytest.approx(res.estimate - res.observed, rel=1e-12)


def test_bic_forward_selection_on_ned5_finds_the_sparsemse_model() -> None:
    """Greedy BIC from main effects reaches SparseMSE's stepwise model on ned5
    (121,521.6 in the reference run); each accepted step lowers BIC."""
    res = fit_covariate_model(pd.read_csv(_csv("ned5.csv")), NED5_LISTS, [], n_boot=0)
    assert set(res.model) == set(NED5_TERMS)
    assert res.estimate == pytest.approx(121_521.6, rel=1e-5)
    bics = [step["bic"] for step in res.selection]
    assert all(b2 < b1 for b1, b2 in itertools.pairwise(bics))


def test_one_row_per_person_gives_the_same_estimate_as_counts() -> None:
    df = pd.read_csv(_csv("uk4.csv"))
    agg = fit_covariate_model(df, ["LA", "NG", "PFNCA", "GO"], [], terms=["LA:NG"], n_boot=0)
    per = fit_covariate_model(_expand(df), ["LA", "NG", "PFNCA", "GO"], [], terms=["LA:NG"],
                              n_boot=0)
    assert per.estimate == pytest.approx(agg.estimate, rel=1e-9)


# ------------------------------------------------ covariate independent of capture
@pytest.fixture(scope="module")
def ned5_with_gender() -> pd.DataFrame:
    """ned5 with each count split at random 40/60 into two genders."""
    rng = np.random.default_rng(5)
    df = pd.read_csv(_csv("ned5.csv"))
    f = rng.binomial(df["count"], 0.4)
    a = df.assign(gender="f", count=f)
    b = df.assign(gender="m", count=df["count"] - f)
    return pd.concat([a, b], ignore_index=True)


def test_covariate_outside_interactions_leaves_the_total_unchanged(
    ned5_with_gender: pd.DataFrame,
) -> None:
    """The Poisson likelihood factorises, so the total is exactly the pooled one."""
    pooled = fit_covariate_model(pd.read_csv(_csv("ned5.csv")), NED5_LISTS, [],
                                 terms=NED5_TERMS, n_boot=0)
    res = fit_covariate_model(ned5_with_gender, NED5_LISTS, ["gender"], terms=NED5_TERMS,
                              n_boot=50, seed=3)
    assert res.estimate == pytest.approx(pooled.estimate, rel=1e-6)
    levels = res.by_covariate["gender"]
    assert sum(lv.estimate for lv in levels) == pytest.approx(res.estimate, rel=1e-12)
    assert sum(lv.hidden for lv in levels) == pytest.approx(res.hidden, rel=1e-12)
    assert sum(lv.observed for lv in levels) == pytest.approx(res.observed, rel=1e-12)
    f, m = levels
    assert (f.level, m.level) == ("f", "m")
    # hidden split in the same proportion as the observed split
    assert f.hidden / res.hidden == pytest.approx(f.observed / res.observed, rel=1e-6)
    assert f.ci is not None and f.ci[0] < f.estimate < f.ci[1]


def test_selection_with_an_independent_covariate_stays_close_to_the_pooled_total(
    ned5_with_gender: pd.DataFrame,
) -> None:
    """With selection the model may add a chance gender term; the total moves
    little (5% tolerance: the pooled ned5 estimate itself is uncertain by
    +-20%, and the selection never sees a real gender effect)."""
    pooled = fit_covariate_model(pd.read_csv(_csv("ned5.csv")), NED5_LISTS, [], n_boot=0)
    res = fit_covariate_model(ned5_with_gender, NED5_LISTS, ["gender"], n_boot=0)
    assert res.estimate == pytest.approx(pooled.estimate, rel=0.05)
    assert sum(lv.estimate for lv in res.by_covariate["gender"]) == pytest.approx(
        res.estimate, rel=1e-12)


# ------------------------------------------------------------------- simulation
SIZES = {"a": 3000, "b": 1500}
PROBS = {"a": (0.10, 0.15, 0.20), "b": (0.40, 0.45, 0.50)}


def _simulate(rng: np.random.Generator) -> pd.DataFrame:
    """Independent lists within each group, very different capture by group."""
    rows = []
    for lvl, n in SIZES.items():
        caps = rng.random((n, 3)) < np.array(PROBS[lvl])
        cnt = np.bincount(caps @ np.array([1, 2, 4]), minlength=8)
        rows += [{"A": c & 1, "B": c >> 1 & 1, "C": c >> 2 & 1, "grp": lvl, "count": int(cnt[c])}
                 for c in range(1, 8) if cnt[c]]
    return pd.DataFrame(rows)


def test_simulation_recovers_sizes_per_level_where_pooling_is_biased() -> None:
    """50 seeded populations of 3,000 + 1,500. Pooling over the groups induces
    positive list dependence: the covariate-free model underestimates by ~22%.
    The covariate model (list:group terms) is nearly unbiased, and its 95%
    percentile intervals cover each group's size in >= 80% of replicates
    (nominal 95%; with 50 replicates a binomial SD of 3 points, and the
    parametric percentile bootstrap runs a little under nominal for the
    low-capture group - 94% over 300 replicates in development). BIC selection
    finds the three list:group terms in >= 45 of 50 replicates."""
    rng = np.random.default_rng(2024)
    reps = 50
    covered = Counter[str]()
    found = 0
    bias_cov, bias_free = [], []
    true_terms = {"A:grp", "B:grp", "C:grp"}
    for r in range(reps):
        df = _simulate(rng)
        selected = fit_covariate_model(df, ["A", "B", "C"], ["grp"], n_boot=0)
        found += true_terms <= set(selected.model)
        res = fit_covariate_model(df, ["A", "B", "C"], ["grp"], terms=sorted(true_terms),
                                  n_boot=200, seed=r)
        free = fit_covariate_model(df, ["A", "B", "C"], [], terms=[], n_boot=0)
        for lv in res.by_covariate["grp"]:
            assert lv.ci is not None
            covered[lv.level] += lv.ci[0] <= SIZES[lv.level] <= lv.ci[1]
        assert res.ci is not None
        covered["total"] += res.ci[0] <= 4500 <= res.ci[1]
        bias_cov.append(res.estimate / 4500 - 1)
        bias_free.append(free.estimate / 4500 - 1)
    assert found >= 45
    for key in ("a", "b", "total"):
        assert covered[key] / reps >= 0.8, (key, covered)
    assert abs(np.mean(bias_cov)) < 0.02
    assert np.mean(bias_free) < -0.15


# ---------------------------------------------------------------- Dutch-style
LISTS = ["IO", "K", "P", "R", "Z"]
YEARS = range(2010, 2016)
FORM = {"sexual": 0.0, "labour": -0.7, "criminal": -1.3}


def _dutch(seed: int) -> tuple[pd.DataFrame, dict[tuple[str, str, str, int], int]]:
    """Synthetic 5-list data shaped like the Dutch 2010-2015 analysis.

    Poisson counts in every cell of lists x age x gender x form x year from a
    log-linear model (so the true model is in the candidate set), hidden
    cells included, which gives the true population per combination. The
    police register a smaller share each year (-0.18 on the log scale), as
    the Rapporteur reported for 2013-2017.
    """
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    for age, gender, form, year in itertools.product(["<18", "18+"], ["f", "m"], FORM, YEARS):
        t = year - 2012.5
        minor, male = age == "<18", gender == "m"
        u = (math.log(900) - 1.2 * minor - 0.8 * male + FORM[form] + 0.03 * t
             - 0.6 * minor * male + 1.0 * male * (form == "labour"))
        beta = [
            -2.4 + 1.0 * (form == "labour") + 0.3 * (not minor),  # IO
            -3.0 + 0.8 * (not minor),  # K
            -1.4 - 0.18 * t + 1.0 * (form == "sexual") - 0.6 * male,  # P
            -2.0 + 1.0 * (form == "sexual") + 0.6 * minor,  # R
            -2.6 + 0.8 * (form == "sexual") + 0.6 * (form == "criminal"),  # Z
        ]
        total = 0
        for pat in itertools.product([0, 1], repeat=5):
            n = int(rng.poisson(math.exp(u + float(np.dot(beta, pat)))))
            total += n
            if any(pat) and n:
                rows.append({**dict(zip(LISTS, pat, strict=True)), "age": age, "gender": gender,
                             "form": form, "year": year, "count": n})
        truth[(age, gender, form, year)] = total
    return pd.DataFrame(rows), truth


def _truth_by(truth: dict[tuple[str, str, str, int], int], pos: int) -> dict[str, int]:
    out: Counter[str] = Counter()
    for key, n in truth.items():
        out[str(key[pos])] += n
    return dict(out)


COVS = ["age", "gender", "form", "year"]


@pytest.fixture(scope="module")
def dutch() -> tuple[pd.DataFrame, dict[tuple[str, str, str, int], int], CovariateResult]:
    df, truth = _dutch(7)
    res = fit_covariate_model(df, LISTS, COVS, trend=["year"], n_boot=100, seed=11)
    return df, truth, res


def test_dutch_style_selection_finds_the_list_covariate_structure(dutch) -> None:
    _, _, res = dutch
    expected = {"IO:age", "IO:form", "K:age", "P:gender", "P:form", "P:year", "R:age",
                "R:form", "Z:form", "age:gender", "gender:form"}
    assert set(res.model) == expected
    assert res.coefficients["P:year"] == pytest.approx(-0.18, abs=0.03)
    assert res.method == "covariate_loglinear"
    assert res.em_iterations == 0 and res.missing_rows == 0


def test_dutch_style_total_and_levels_match_the_truth(dutch) -> None:
    """Total within 2% and inside its interval; every age, gender, form and
    year level within 5% of its true size (the smallest level, criminal
    exploitation, has ~5,000 people of whom ~3,000 are registered)."""
    _, truth, res = dutch
    total = sum(truth.values())
    assert res.estimate == pytest.approx(total, rel=0.02)
    assert res.ci is not None and res.ci[0] <= total <= res.ci[1]
    for pos, cov in enumerate(COVS):
        true_by = _truth_by(truth, pos)
        levels = res.by_covariate[cov]
        assert [lv.level for lv in levels] == sorted(true_by, key=lambda s: (
            float(s) if cov == "year" else s))
        for lv in levels:
            assert lv.estimate == pytest.approx(true_by[lv.level], rel=0.05), (cov, lv)
            assert lv.ci is not None and lv.ci[0] < lv.estimate < lv.ci[1]
            assert not lv.sparse
        assert sum(lv.estimate for lv in levels) == pytest.approx(res.estimate, rel=1e-12)
    covered = sum(lv.ci[0] <= _truth_by(truth, 3)[lv.level] <= lv.ci[1]
                  for lv in res.by_covariate["year"] if lv.ci)
    assert covered >= 5


def test_dutch_style_result_is_json_with_the_contract_keys(dutch) -> None:
    _, _, res = dutch
    out = json.loads(json.dumps(res.to_dict()))
    for key in ("observed", "estimate", "ci", "ci_method", "hidden", "share_invisible",
                "method", "model", "fit", "warnings", "seed", "em", "by_covariate"):
        assert key in out
    assert set(out["fit"]) >= {"deviance", "df", "aic", "bic"}
    assert set(out["em"]) >= {"iterations", "converged", "missing_rows"}
    lv = out["by_covariate"]["age"][0]
    assert set(lv) >= {"level", "observed", "estimate", "ci", "hidden", "share_invisible"}
    assert out["hidden"] == pytest.approx(out["estimate"] - out["observed"])
    assert out["share_invisible"] == pytest.approx(out["hidden"] / out["estimate"])
    assert out["ci_method"] == "parametric_bootstrap_percentile"
    assert out["fit"]["aic"] - out["fit"]["bic"] == pytest.approx(
        (2 - math.log(out["observed"])) * out["fit"]["n_params"])
    cells = res.cells
    assert cells is not None
    assert cells["fitted"].sum() == pytest.approx(res.estimate, rel=1e-9)


# ------------------------------------------------------------------------- EM
@pytest.fixture(scope="module")
def dutch_missing(dutch):
    """The same people with 20% of form and 5% of age values deleted at random."""
    df, _, full = dutch
    rng = np.random.default_rng(99)
    people = _expand(df).astype({"form": object, "age": object})
    people.loc[rng.random(len(people)) < 0.20, "form"] = None
    people.loc[rng.random(len(people)) < 0.05, "age"] = ""
    res = fit_covariate_model(people, LISTS, COVS, trend=["year"], terms=list(full.model),
                              n_boot=30, seed=5)
    return people, full, res


def test_em_estimate_is_close_to_the_full_data_estimate(dutch_missing) -> None:
    """Deleting values at random loses information but not the answer: the EM
    total is within 1% and each form/age level within 3% of the full-data fit
    (the deleted values carry ~2% of the information about form levels)."""
    people, full, res = dutch_missing
    assert res.em_converged and res.em_iterations > 1
    assert res.missing_rows == int((people["form"].isna() | (people["age"] == "")).sum())
    assert res.missing_count == res.missing_rows  # one row per person
    assert res.estimate == pytest.approx(full.estimate, rel=0.01)
    for cov in ("form", "age"):
        for ours, theirs in zip(res.by_covariate[cov], full.by_covariate[cov], strict=True):
            assert ours.level == theirs.level
            assert ours.estimate == pytest.approx(theirs.estimate, rel=0.03)
            assert ours.observed_known < theirs.observed_known
        assert sum(lv.observed for lv in res.by_covariate[cov]) == pytest.approx(
            res.observed, rel=1e-9)
    assert any(w["code"] == "missing_covariates" for w in res.to_dict()["warnings"])
    assert res.ci is not None and res.ci[0] < res.estimate < res.ci[1]


def test_em_is_reproducible_for_a_seed(dutch_missing) -> None:
    people, full, res = dutch_missing
    again = fit_covariate_model(people, LISTS, COVS, trend=["year"], terms=list(full.model),
                                n_boot=30, seed=5)
    assert again.to_dict() == res.to_dict()
    other = fit_covariate_model(people, LISTS, COVS, trend=["year"], terms=list(full.model),
                                n_boot=30, seed=6)
    assert other.estimate == res.estimate
    assert other.ci != res.ci


def test_em_with_model_selection_on_a_small_table() -> None:
    rng = np.random.default_rng(8)
    people = _expand(_simulate(rng)).astype({"grp": object})
    full = fit_covariate_model(people, ["A", "B", "C"], ["grp"], n_boot=0)
    people.loc[rng.random(len(people)) < 0.2, "grp"] = np.nan
    res = fit_covariate_model(people, ["A", "B", "C"], ["grp"], n_boot=50, seed=1)
    assert set(res.model) == set(full.model) >= {"A:grp", "B:grp", "C:grp"}
    assert res.estimate == pytest.approx(full.estimate, rel=0.03)
    assert res.em_converged


# ----------------------------------------------------------- structural zeros
def _with_minors_register(seed: int) -> pd.DataFrame:
    """Lists A, B for everyone; J (youth care) registers only minors."""
    rng = np.random.default_rng(seed)
    rows = []
    for age, n, probs in (("<18", 2000, (0.2, 0.25, 0.3)), ("18+", 4000, (0.3, 0.2, 0.0))):
        caps = rng.random((n, 3)) < np.array(probs)
        cnt = np.bincount(caps @ np.array([1, 2, 4]), minlength=8)
        rows += [{"A": c & 1, "B": c >> 1 & 1, "J": c >> 2 & 1, "age": age, "count": int(cnt[c])}
                 for c in range(1, 8) if cnt[c]]
    return pd.DataFrame(rows)


def test_structural_zeros_are_fitted_as_zero_cells() -> None:
    df = _with_minors_register(4)
    res = fit_covariate_model(df, ["A", "B", "J"], ["age"], terms=["A:age", "B:age", "J:age"],
                              structural_zeros=[("J", "age=18+")], n_boot=50)
    cells = res.cells
    assert cells is not None
    impossible = (cells["J"] == 1) & (cells["age"] == "18+")
    assert cells.loc[impossible, "structural_zero"].all()
    assert (cells.loc[impossible, "fitted"] == 0).all()
    assert not cells.loc[~impossible, "structural_zero"].any()
    # J:age is then a copy of J's main effect; it is dropped, not an error
    assert res.aliased == ("J:age[<18]",)
    by = {lv.level: lv.estimate for lv in res.by_covariate["age"]}
    assert by["<18"] == pytest.approx(2000, rel=0.1)
    assert by["18+"] == pytest.approx(4000, rel=0.1)
    assert res.structural_zeros == (("J", "age=18+"),)
    # the same table without declaring the zero: J's effect for adults has no finite MLE
    with pytest.raises(EstimationError) as exc:
        fit_covariate_model(df, ["A", "B", "J"], ["age"], terms=["A:age", "B:age", "J:age"],
                            n_boot=0)
    assert exc.value.code == "no_mle"


def test_a_count_in_a_structural_zero_cell_is_an_input_error() -> None:
    df = _with_minors_register(4)
    df.loc[len(df)] = {"A": 0, "B": 0, "J": 1, "age": "18+", "count": 3}
    with pytest.raises(InputError) as exc:
        fit_covariate_model(df, ["A", "B", "J"], ["age"], structural_zeros=[("J", "age=18+")],
                            n_boot=0)
    assert exc.value.code == "structural_zero_observed"
    assert exc.value.row == len(df) + 1  # CSV line: header is line 1


def test_a_non_identifiable_model_is_refused() -> None:
    df = _simulate(np.random.default_rng(1))
    with pytest.raises(EstimationError) as exc:
        fit_covariate_model(df, ["A", "B", "C"], ["grp"], terms=["A:B:C"], n_boot=0)
    assert exc.value.code == "not_identifiable"


def test_progress_is_reported_up_to_done() -> None:
    seen: list[tuple[float, str]] = []
    fit_covariate_model(_simulate(np.random.default_rng(2)), ["A", "B", "C"], ["grp"],
                        n_boot=100, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert any("bootstrap" in m for _, m in seen)


# ------------------------------------------------------------------ bad input
BASE = pd.DataFrame({
    "A": [1, 0, 1, 1, 0, 1],
    "B": [0, 1, 1, 0, 1, 1],
    "age": ["<18", "18+", "<18", "18+", "<18", "18+"],
    "year": [2010, 2011, 2010, 2011, 2010, 2011],
    "count": [10, 12, 3, 9, 8, 4],
})


def _bad(changes: dict[tuple[str, int], object]) -> pd.DataFrame:
    df = BASE.copy().astype(object)
    for (col, pos), value in changes.items():
        df.loc[pos, col] = value
    return df


@pytest.mark.parametrize(
    ("table", "kwargs", "code", "row", "column"),
    [
        (_bad({("A", 2): 2}), {}, "not_binary", 4, "A"),
        (_bad({("B", 1): "yes"}), {}, "not_binary", 3, "B"),
        (_bad({("B", 0): None}), {}, "not_binary", 2, "B"),
        (_bad({("count", 3): -2}), {}, "negative_count", 5, "count"),
        (_bad({("count", 3): 2.5}), {}, "fractional_count", 5, "count"),
        (_bad({("count", 5): "many"}), {}, "bad_count", 7, "count"),
        (_bad({("A", 1): 0, ("B", 1): 0}), {}, "all_zero_history", 3, "A"),
        (BASE, {"covariates": ["gender"]}, "missing_column", 1, "gender"),
        (BASE, {"lists": ["A"]}, "too_few_lists", None, None),
        (BASE, {"lists": ["A", "A"]}, "duplicate_column", 1, "A"),
        (BASE.assign(age="<18"), {}, "covariate_single_level", None, "age"),
        (BASE.assign(age=np.nan), {}, "covariate_all_missing", None, "age"),
        (BASE.assign(age=""), {}, "covariate_all_missing", None, "age"),
        (BASE, {"covariates": ["age"], "trend": ["year"]}, "trend_not_covariate", None, "year"),
        (BASE, {"covariates": ["age"], "trend": ["age"]}, "trend_not_numeric", 2, "age"),
        (BASE, {"terms": ["A:gender"]}, "unknown_term", None, None),
        (BASE, {"terms": ["A:A"]}, "bad_term", None, None),
        (BASE, {"structural_zeros": [("A", "age=65+")]}, "bad_structural_zero", None, None),
        (BASE, {"structural_zeros": [("C", "age=<18")]}, "bad_structural_zero", None, None),
        (BASE.iloc[:0], {}, "empty", None, None),
        (BASE.assign(count=0), {}, "empty", None, None),
        (BASE.assign(B=0, A=1), {}, "list_empty", None, "B"),
        (BASE, {"level": 1.5}, "bad_parameter", None, "level"),
        (BASE, {"n_boot": -1}, "bad_parameter", None, "n_boot"),
    ],
)
def test_bad_input_names_the_problem(table, kwargs, code, row, column) -> None:
    args = {"lists": ["A", "B"], "covariates": ["age"], "count": "count", "n_boot": 0}
    args.update(kwargs)
    with pytest.raises(InputError) as exc:
        fit_covariate_model(table, **args)
    err = exc.value
    assert err.code == code
    assert err.row == row
    assert err.column == column
    assert code in MESSAGES
    out = err.to_dict()
    assert out["message_nl"] and out["message"] and "?" not in out["message"]
    assert "?" not in str(out["message_nl"])


def test_the_same_table_without_the_fault_fits() -> None:
    """The bad-input cases share one base table; it must fit, so each failure
    above comes from the fault put in, not from the base."""
    res = fit_covariate_model(BASE, ["A", "B"], ["age"], count="count", terms=[], n_boot=20)
    assert res.observed == int(BASE["count"].sum())
    assert math.isfinite(res.estimate) and res.estimate > res.observed


def test_too_many_cells_is_refused_before_any_work() -> None:
    wide = pd.DataFrame({f"L{i}": [1, i % 2] for i in range(17)}
                        | {"c": ["x", "y"], "count": [1, 1]})
    with pytest.raises(InputError) as exc:
        fit_covariate_model(wide, [f"L{i}" for i in range(17)], ["c"], count="count")
    assert exc.value.code == "too_many_cells"


def test_library_does_not_import_django() -> None:
    code = ("import sys; sys.modules['django'] = None; "
            "import zichtbaar.estimate.covariates as c; print(c.fit_covariate_model.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "fit_covariate_model"
