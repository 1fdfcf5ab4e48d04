"""Every bad input from the issue, through the library and through the CLI.

Each case is run twice from the same file: ``load_csv``/``run`` must raise a
typed error whose sentence (Dutch and English) names the problem and the
line, and ``zichtbaar estimate FILE`` in a subprocess must exit with 2 and
print that sentence, never a traceback. The good file next to them goes
through the same path and must succeed, so a failure cannot pass for the
wrong reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zichtbaar.estimate import api
from zichtbaar.estimate.histories import InputError
from zichtbaar.estimate.loglinear import EstimationError
from zichtbaar.estimate.messages import message_for

GOOD = "A,B,C,count\n1,0,0,40\n0,1,0,30\n0,0,1,20\n1,1,0,10\n1,0,1,8\n0,1,1,6\n1,1,1,2\n"

# name: (file content, expected code, expected line, words in the nl / en sentence)
CASES: dict[str, tuple[bytes, str, int | None, tuple[str, ...], tuple[str, ...]]] = {
    "not_binary": (b"A,B,C,count\n1,0,0,4\n0,2,1,3\n", "not_binary", 3,
                   ("Regel 3", "'B'", "0 of 1", "'2'"), ("Line 3", "'B'", "0 or 1")),
    "negative_count": (b"A,B,count\n1,0,4\n1,1,-3\n", "negative_count", 3,
                       ("Regel 3", "negatief"), ("Line 3", "negative")),
    "fractional_count": (b"A,B,count\n1,0,4.5\n1,1,3\n", "fractional_count", 2,
                         ("Regel 2", "geheel getal"), ("Line 2", "whole number")),
    "not_a_number": (b"A,B,count\n1,0,veel\n", "bad_count", 2,
                     ("Regel 2", "geen getal"), ("Line 2", "not a number")),
    "duplicated_column": (b"A,B,A,count\n1,0,0,4\n", "duplicate_column", 1,
                          ("'A'", "twee keer"), ("'A'", "twice")),
    "unnamed_column": (b"A,,C,count\n1,0,0,4\n", "missing_column", 1,
                       ("ontbreekt",), ("missing",)),
    "missing_value": (b"A,B,C,count\n1,0,0,4\n1,0\n", "not_binary", 3,
                      ("Regel 3", "'C'"), ("Line 3", "'C'")),
    "extra_values": (b"A,B,count\n1,0,4\n1,1,3,9\n", "too_many_fields", 3,
                     ("Regel 3",), ("Line 3",)),
    "all_zero_history": (b"A,B,C,count\n1,0,0,4\n0,0,0,7\n", "all_zero_history", 3,
                         ("Regel 3", "geen enkele lijst"), ("Line 3", "no list")),
    "one_list": (b"A,count\n1,4\n", "too_few_lists", None,
                 ("minstens twee lijsten",), ("At least two lists",)),
    "empty_file": (b"", "empty", None, ("geen gegevens",), ("no data",)),
    "header_only": (b"A,B,count\n", "empty", None, ("geen gegevens",), ("no data",)),
    "binary_file": (b"PK\x03\x04\x00\x00binary", "not_csv", None, ("CSV",), ("CSV",)),
    "lists_never_overlap": (b"A,B,C,count\n1,0,0,4\n0,1,0,3\n0,0,1,9\n", "no_overlap_at_all",
                            None, ("Geen twee lijsten",), ("No two lists",)),
}


def _error_for(content: bytes) -> InputError | EstimationError:
    try:
        api.run(api.load_csv(content), ci="none")
    except (InputError, EstimationError) as exc:
        return exc
    raise AssertionError("no error raised")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    out = {}
    for name, (content, *_rest) in CASES.items():
        out[name] = d / f"{name}.csv"
        out[name].write_bytes(content)
    out["good"] = d / "good.csv"
    out["good"].write_text(GOOD)
    return out


@pytest.fixture(scope="module")
def cli_runs(files: dict[str, Path]) -> dict[str, subprocess.CompletedProcess[str]]:
    """All CLI runs started at once (each pays the interpreter start-up)."""
    env = {**os.environ, "LANG": "C.UTF-8"}
    env.pop("LANGUAGE", None)
    env.pop("LC_ALL", None)
    procs = {}
    for name, path in files.items():
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "zichtbaar.cli", "estimate", str(path), "--ci", "none"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    procs["english"] = subprocess.Popen(
        [sys.executable, "-m", "zichtbaar.cli", "estimate", str(files["not_binary"]),
         "--lang", "en"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    procs["missing_file"] = subprocess.Popen(
        [sys.executable, "-m", "zichtbaar.cli", "estimate", str(files["good"]) + ".nope"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    procs["bad_option"] = subprocess.Popen(
        [sys.executable, "-m", "zichtbaar.cli", "estimate", str(files["good"]), "--method",
         "magic"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    procs["unknown_strata"] = subprocess.Popen(
        [sys.executable, "-m", "zichtbaar.cli", "estimate", str(files["good"]), "--strata",
         "jaar"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out = {}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=120)
        out[name] = subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_library_names_problem_and_line(name: str) -> None:
    content, code, line, words_nl, words_en = CASES[name]
    exc = _error_for(content)
    assert exc.code == code
    if line is not None:
        assert isinstance(exc, InputError) and exc.row == line
    nl, en = message_for(exc, "nl"), message_for(exc, "en")
    for w in words_nl:
        assert w in nl, nl
    for w in words_en:
        assert w in en, en
    assert "?" not in nl.replace("?'", "")  # every placeholder was filled


@pytest.mark.parametrize("name", list(CASES))
def test_cli_exits_2_with_dutch_sentence(
    name: str, cli_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    run = cli_runs[name]
    _, _, _, words_nl, _ = CASES[name]
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("Fout: ")
    for w in words_nl:
        assert w in run.stderr
    assert run.stdout == ""


def test_cli_good_file_succeeds(cli_runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    run = cli_runs["good"]
    assert run.returncode == 0, run.stderr
    assert "schatting" in run.stdout and "totaal" in run.stdout


def test_cli_english_and_other_errors(
    cli_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert cli_runs["english"].returncode == 2
    assert cli_runs["english"].stderr.startswith("Error: Line 3, column 'B'")
    missing = cli_runs["missing_file"]
    assert missing.returncode == 2 and "niet gevonden" in missing.stderr
    bad = cli_runs["bad_option"]
    assert bad.returncode == 2 and "Ongeldige opdracht" in bad.stderr and "magic" in bad.stderr
    strata = cli_runs["unknown_strata"]
    assert strata.returncode == 2 and "'jaar'" in strata.stderr
    for run in cli_runs.values():
        assert "Traceback" not in run.stderr


def test_some_lists_never_overlap_is_a_named_warning_not_an_error() -> None:
    """A:C never overlap: the interaction goes to minus infinity (SparseMSE) and
    the result says so, naming the pair."""
    data = b"A,B,C,count\n1,0,0,30\n0,1,0,20\n0,0,1,25\n1,1,0,9\n0,1,1,7\n"
    h = api.load_csv(data)
    assert h.non_overlapping_pairs() == ["A:C"]
    res = api.run(h, method="aic")
    assert "A:C" in res["model"]
    w = next(w for w in res["warnings"] if w["code"] == "neg_inf_terms")
    assert "A:C" in w["message_nl"] and "A:C" in w["message_en"]


def test_stratum_without_overlaps_is_reported_not_estimated() -> None:
    rows = ["A,B,C,regio,count"]
    rows += ["1,0,0,noord,40", "0,1,0,noord,30", "0,0,1,noord,20", "1,1,0,noord,10",
             "1,0,1,noord,8", "0,1,1,noord,6", "1,1,1,noord,2"]
    rows += ["1,0,0,zuid,12", "0,1,0,zuid,9", "0,0,1,zuid,7"]
    h = api.load_csv("\n".join(rows) + "\n")
    res = api.run(h, strata="regio")
    noord, zuid = res["strata"]
    assert noord["status"] == "ok" and noord["estimate"] > noord["observed"]
    assert zuid["status"] == "insufficient_data"
    assert zuid["estimate"] is None and zuid["ci"] == [None, None] and zuid["hidden"] is None
    assert zuid["reason_code"] == "stratum_no_overlap"
    assert "'zuid'" in zuid["reason_nl"] and "overlappen niet" in zuid["reason_nl"]
