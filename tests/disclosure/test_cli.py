"""``zichtbaar monitor protect`` as a subprocess: the table layout, --out, and every bad input
ending in one line and exit 2. (Run as ``python -m zichtbaar.disclosure.cli`` until the
``monitor`` command is wired into ``zichtbaar.cli``.)"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

# Region A: 1 arbeid, 2 seks. B: 6 arbeid, 5 seks. C: 5 arbeid, 1 crimineel, 6 seks.
RECORDS = ([("A", "arbeid")] + [("A", "seks")] * 2 + [("B", "arbeid")] * 6
           + [("B", "seks")] * 5 + [("C", "arbeid")] * 5 + [("C", "crimineel")]
           + [("C", "seks")] * 6)
TRUE = {"A": {"arbeid": 1, "crimineel": 0, "seks": 2},
        "B": {"arbeid": 6, "crimineel": 0, "seks": 5},
        "C": {"arbeid": 5, "crimineel": 1, "seks": 6}}


def _microdata(tmp_path: Path, sep: str = ",", extra: str = "leeftijd") -> Path:
    path = tmp_path / "micro.csv"
    lines = [sep.join(["regio", "vorm", extra])]
    lines += [sep.join([r, v, "30"]) for r, v in RECORDS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zichtbaar.disclosure.cli", *args],
                          capture_output=True, text=True, timeout=120)


def _check_table(text: str, threshold: int = 5) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["regio", "arbeid", "crimineel", "seks", "Totaal"]
    assert [r[0] for r in rows[1:]] == ["A", "B", "C", "Totaal"]
    for r in rows[1:-1]:
        for col, cell in zip(rows[0][1:-1], r[1:-1], strict=True):
            true = TRUE[r[0]][col]
            if 1 <= true < threshold:
                assert cell == f"<{threshold}"
            elif cell != "x":
                assert int(cell) == true
    assert all(c.isdigit() or c in (f"<{threshold}", "x") for r in rows[1:] for c in r[1:])
    return rows


def test_protect_writes_the_table_to_stdout(tmp_path: Path) -> None:
    out = _run("protect", str(_microdata(tmp_path)), "--rows", "regio", "--cols", "vorm")
    assert out.returncode == 0, out.stderr
    rows = _check_table(out.stdout)
    assert rows[-1][-1] == "26"
    assert rows[1][2] == "0", "zeros stay 0"


def test_protect_writes_to_out_and_reads_semicolons(tmp_path: Path) -> None:
    target = tmp_path / "tabel.csv"
    out = _run("protect", str(_microdata(tmp_path, sep=";")), "--rows", "regio", "--cols",
               "vorm", "--threshold", "3", "--out", str(target))
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    _check_table(target.read_text(encoding="utf-8"), threshold=3)


def test_minors_class_uses_ten(tmp_path: Path) -> None:
    out = _run("protect", str(_microdata(tmp_path)), "--rows", "regio", "--cols", "vorm",
               "--class", "minors")
    assert out.returncode == 0, out.stderr
    _check_table(out.stdout, threshold=10)


BAD = {
    "missing_file": (None, ["--rows", "regio", "--cols", "vorm"], "not found"),
    "missing_column": ("csv", ["--rows", "regio", "--cols", "nationaliteit"], "nationaliteit"),
    "same_column": ("csv", ["--rows", "regio", "--cols", "regio"], "same column"),
    "binary": (b"PK\x03\x04\x00\x00\x00binary\x00", ["--rows", "a", "--cols", "b"], "CSV"),
    "empty": (b"", ["--rows", "a", "--cols", "b"], "empty"),
    "header_only": (b"regio,vorm\n", ["--rows", "regio", "--cols", "vorm"], "no records"),
    "threshold_one": ("csv", ["--rows", "regio", "--cols", "vorm", "--threshold", "1"],
                      "at least 2"),
    "threshold_text": ("csv", ["--rows", "regio", "--cols", "vorm", "--threshold", "vijf"],
                       "whole number"),
    "threshold_fraction": ("csv", ["--rows", "regio", "--cols", "vorm", "--threshold", "4.5"],
                           "whole number"),
    "unknown_class": ("csv", ["--rows", "regio", "--cols", "vorm", "--class", "gemeente"],
                      "gemeente"),
    "no_rows_option": ("csv", ["--cols", "vorm"], "--rows"),
    "short_line": (b"regio,vorm\nA,seks\nB\n", ["--rows", "regio", "--cols", "vorm"], "Line 3"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gets_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    content, options, words = BAD[case]
    if content is None:
        path = tmp_path / "missing.csv"
    elif content == "csv":
        path = _microdata(tmp_path)
    else:
        path = tmp_path / "input.csv"
        path.write_bytes(content)  # type: ignore[arg-type]
    out = _run("protect", str(path), *options)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == ""
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert words in out.stderr


def test_no_subcommand_is_a_usage_error() -> None:
    for args in ([], ["tabel"]):
        out = _run(*args)
        assert out.returncode == 2
        assert "protect" in out.stderr and "Traceback" not in out.stderr


def test_unprotectable_table_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "micro.csv"
    path.write_text("r,c\n" + "a,p\na,q\na,s\na,t\n" + "b,p\nb,q\nb,s\nb,t\n" * 10,
                    encoding="utf-8")
    target = tmp_path / "out.csv"
    out = _run("protect", str(path), "--rows", "r", "--cols", "c", "--out", str(target))
    assert out.returncode == 1
    assert "cannot be protected" in out.stderr
    assert not target.exists()


def test_main_takes_argv_starting_with_protect(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from zichtbaar.disclosure.cli import main

    assert main(["protect", str(_microdata(tmp_path)), "--rows", "regio", "--cols", "vorm"]) == 0
    _check_table(capsys.readouterr().out)
