"""``zichtbaar link`` as a subprocess, the way analysts run it."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEADER = "id,given_name,surname,date_of_birth,sex,phone,email,postcode,city"
LEFT = f"""{HEADER},notes
a1,Jan,van der Berg,03-04-1990,m,06 12345678,jan@example.org,1234 AB,Utrecht,x
a2,Fatima,El Amrani,1985-11-23,v,,,3011 AA,Rotterdam,
a3,Pieter,de Vries,12/07/1978,m,+31 20 1234567,,1011AB,Amsterdam,
a4,Jan,Berg,3-4-1990,M,0612345678,,1234AB,Utrecht,
a5,Anna,Jansen,31-02-1990,v,,,,,
a6,Piet,de Vries,12-07-1978,m,,,1011 AB,Amsterdam,
a6,Dup,Licate,01-01-1970,m,,,,,
,No,Id,01-01-1970,m,,,,,
a7,Too,Many,01-01-1970,m,,,,,,extra
a8,Sanne,Bakker,1992-05-14,v,,,2511 CV,Den Haag,
a9,Sanne,Bakker-de Wit,14-05-1992,v,,,2511CV,Den Haag,
a10,Mohammed,Yilmaz,1979-09-09,m,,,5611 AB,Eindhoven,
"""
RIGHT = f"""{HEADER}
b1,Mohamed,Yilmaz,09-09-1979,m,,,5611AB,Eindhoven
b2,Jan,Van der Berg,1990-04-03,m,,,1234AB,Utrecht
b3,Lotte,Visser,1999-01-30,v,,,9711 AA,Groningen
b4,Fatima,Amrani,23-11-1985,v,,,3011AA,Rotterdam
b5,Kees,Mulder,1960-06-06,m,,,6511 AB,Nijmegen
"""


def run(args: list[str], tmp_path: Path, env_extra: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"ZICHTBAAR_LINKAGE_KEY", "LANG", "DJANGO_SETTINGS_MODULE"}}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "zichtbaar.cli", "link", *args],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)


def pairs(path: Path) -> set[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id_a", "id_b", "probability"]
    assert all(0.0 < float(r[2]) <= 1.0 for r in rows[1:])
    return {(r[0], r[1]) for r in rows[1:]}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    left, right = tmp_path / "left.csv", tmp_path / "right.csv"
    left.write_text(LEFT, encoding="utf-8")
    right.write_text(RIGHT, encoding="utf-8")
    return left, right


def test_dedup_finds_duplicates_and_reports_each_bad_row_in_dutch(files, tmp_path) -> None:
    out = tmp_path / "pairs.csv"
    result = run([str(files[0]), "--out", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert pairs(out) == {("a1", "a4"), ("a3", "a6"), ("a8", "a9")}
    err = result.stderr
    assert "kolommen genegeerd: notes" in err
    assert "regel 6: geboortedatum '31-02-1990'" in err
    assert "regel 8: id 'a6' kwam al voor op regel 7" in err
    assert "regel 9: 'id' is leeg" in err
    assert "regel 10: 11 kolommen in plaats van 10" in err
    assert "4 regel(s) overgeslagen, 8 gebruikt" in err
    assert "100%" in err and "Traceback" not in err


def test_two_files_link_across_with_id_a_from_the_first(files, tmp_path) -> None:
    out = tmp_path / "pairs.csv"
    result = run([str(files[0]), str(files[1]), "--out", str(out), "--lang", "en"], tmp_path)
    assert result.returncode == 0, result.stderr
    found = pairs(out)
    assert {("a1", "b2"), ("a4", "b2"), ("a10", "b1")} <= found
    assert all(a.startswith("a") and b.startswith("b") for a, b in found)
    assert ("a2", "b3") not in found
    assert "line 6: date of birth" in result.stderr


def test_bloom_needs_the_secret_and_then_matches(files, tmp_path) -> None:
    out = tmp_path / "pairs.csv"
    missing = run([str(files[0]), "--out", str(out), "--bloom"], tmp_path)
    assert missing.returncode == 2 and not out.exists()
    assert "ZICHTBAAR_LINKAGE_KEY" in missing.stderr and "Traceback" not in missing.stderr
    ok = run([str(files[0]), "--out", str(out), "--bloom", "--secret-env", "MY_KEY"], tmp_path,
             {"MY_KEY": "shared-secret-for-tests"})
    assert ok.returncode == 0, ok.stderr
    assert pairs(out) == {("a1", "a4"), ("a3", "a6"), ("a8", "a9")}


def test_non_utf8_row_is_reported_by_line(tmp_path) -> None:
    data = (f"{HEADER}\nx1,Jan,Smit,1980-01-01,m,,,1234AB,Utrecht\n").encode()
    data += b"x2,J\xe9r\xf4me,Smit,1980-01-01,m,,,1234AB,Utrecht\n"
    data += b"x3,Jan,Smit,01-01-1980,m,,,1234AB,Utrecht\n"
    path = tmp_path / "latin1.csv"
    path.write_bytes(data)
    out = tmp_path / "pairs.csv"
    result = run([str(path), "--out", str(out), "--lang", "en"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "line 3: not valid UTF-8" in result.stderr
    assert pairs(out) == {("x1", "x3")}


@pytest.mark.parametrize(("content", "needle_nl", "needle_en"), [
    (None, "bestand niet gevonden", "file not found"),
    (b"", "het bestand is leeg", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "geen tekstbestand", "not a text"),
    (b"a1,Jan,Smit,1980-01-01\n", "kopregel", "header"),
    (b"given_name,surname\nJan,Smit\n", "mist de kolom 'id'", "lacks the column 'id'"),
    (f"{HEADER}\n,,,,,,,,\n".encode(), "geen bruikbare regels", "no usable rows"),
])
def test_bad_files_exit_2_with_a_message(tmp_path, content, needle_nl, needle_en) -> None:
    path = tmp_path / "input.csv"
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "pairs.csv"
    dutch = run([str(path), "--out", str(out)], tmp_path)
    english = run([str(path), "--out", str(out)], tmp_path, {"LANG": "en_GB.UTF-8"})
    for result, needle in ((dutch, needle_nl), (english, needle_en)):
        assert result.returncode == 2
        assert needle in result.stderr
        assert "Traceback" not in result.stderr
    assert not out.exists()


def test_unwritable_output_is_a_message(files, tmp_path) -> None:
    result = run([str(files[0]), "--out", str(tmp_path / "no" / "such" / "dir.csv")], tmp_path)
    assert result.returncode == 2 and "kan niet schrijven" in result.stderr


def test_library_never_imports_django() -> None:
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'django' or name.startswith('django.'):\n"
            "            raise ImportError('django blocked')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import zichtbaar.linkage, zichtbaar.linkage.cli, zichtbaar.linkage.bloom_matching\n"
            "from zichtbaar.linkage import find_pairs\n"
            "p = find_pairs([{'id': '1', 'given_name': 'Jan', 'surname': 'Smit',"
            " 'date_of_birth': '1980-01-01'}, {'id': '2', 'given_name': 'Jan',"
            " 'surname': 'Smit', 'date_of_birth': '01-01-1980'}], threshold=0.5)\n"
            "assert [(x.id_a, x.id_b) for x in p] == [('1', '2')], p\n"
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
