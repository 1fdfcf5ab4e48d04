"""Finding pairs of records that describe the same person.

Two engines share one entry point, ``find_pairs``:

* **Plaintext** (default): a Fellegi-Sunter model in Splink on DuckDB. u probabilities come
  from random sampling (pairs of random records are almost all non-matches), m
  probabilities from expectation maximisation on blocked pairs, and the prior from exact
  deterministic rules. Nothing needs labelled training data, which partners never have.
* **Bloom** (``bloom=True``): only hardened Bloom encodings leave the encoder. Candidate
  pairs come from locality-sensitive hashing on bit samples; their Dice coefficients are
  turned into match probabilities by a two-class mixture fitted with EM, so ``threshold``
  means the same thing in both engines.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zichtbaar.linkage.normalise import FieldError, normalise_person

__all__ = ["InputError", "Pair", "find_pairs"]

Progress = Callable[[str, float], None]

SEED = 20260101  # fixed so that two runs on the same data give the same pairs


@dataclass(frozen=True)
class Pair:
    """Two record ids judged to be the same person, with the model's match probability."""

    id_a: str
    id_b: str
    probability: float


class InputError(ValueError):
    """A record that cannot be used; ``side`` is "left" or "right", ``index`` 0-based."""

    def __init__(self, side: str, index: int, code: str, field: str = "", value: str = "") -> None:
        super().__init__(f"{side} record {index}: {code} {field} {value!r}".strip())
        self.side = side
        self.index = index
        self.code = code
        self.field = field
        self.value = value


def _normalise_all(records: Sequence[Mapping[str, str | None]], side: str) -> list[dict[str, str]]:
    persons: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        try:
            person = normalise_person(record)
        except FieldError as exc:
            raise InputError(side, index, exc.code, exc.field, exc.value) from exc
        if not person["id"]:
            raise InputError(side, index, "missing_id", "id")
        if person["id"] in seen:
            raise InputError(side, index, "duplicate_id", "id", person["id"])
        seen.add(person["id"])
        persons.append(person)
    return persons


def find_pairs(
    left: Sequence[Mapping[str, str | None]],
    right: Sequence[Mapping[str, str | None]] | None = None,
    *,
    threshold: float = 0.9,
    bloom: bool = False,
    secret: bytes | str | None = None,
    progress: Progress | None = None,
) -> list[Pair]:
    """Pairs with match probability ≥ ``threshold``, best first.

    ``right=None`` deduplicates ``left`` (``id_a`` < ``id_b``); otherwise ``id_a`` is from
    ``left`` and ``id_b`` from ``right``. ``bloom=True`` needs ``secret`` and compares only
    hardened Bloom encodings. Raises ``InputError`` for a record that cannot be normalised,
    lacks an id or repeats one.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must lie in (0, 1]")
    report = progress or (lambda _stage, _fraction: None)
    persons_left = _normalise_all(left, "left")
    persons_right = None if right is None else _normalise_all(right, "right")
    report("normalise", 1.0)
    if bloom:
        if secret is None:
            raise ValueError("bloom matching needs the shared secret")
        from zichtbaar.linkage.bloom_matching import bloom_pairs

        found = bloom_pairs(persons_left, persons_right, secret=secret, threshold=threshold,
                            progress=report)
    else:
        found = _splink_pairs(persons_left, persons_right, threshold=threshold, progress=report)
    found.sort(key=lambda p: (-p.probability, p.id_a, p.id_b))
    return found


# --- Splink -------------------------------------------------------------------------------

MATCH_COLUMNS = ("given_name", "surname", "date_of_birth", "sex", "phone", "email", "postcode",
                 "city")


def _frame(persons: Sequence[Mapping[str, str]]) -> Any:
    import pandas as pd

    frame = pd.DataFrame(
        {"unique_id": [p["id"] for p in persons],
         **{c: [p[c] or None for p in persons] for c in MATCH_COLUMNS}},
        columns=["unique_id", *MATCH_COLUMNS],
    )
    return frame.astype(object).where(frame.notna(), None)


def _present(frames: Sequence[Any], column: str) -> bool:
    """A column is usable only if every input has at least two values in it."""
    return all(int(f[column].notna().sum()) >= 2 for f in frames) if len(frames) == 1 else all(
        int(f[column].notna().sum()) >= 1 for f in frames)


def _comparisons(present: set[str]) -> list[Any]:
    import splink.comparison_library as cl

    made: list[Any] = []
    if {"given_name", "surname"} <= present:
        made.append(_full_name_comparison())
    elif "given_name" in present:
        made.append(cl.NameComparison("given_name"))
    elif "surname" in present:
        made.append(cl.NameComparison("surname"))
    if "date_of_birth" in present:
        made.append(cl.DateOfBirthComparison("date_of_birth", input_is_string=True))
    if "sex" in present:
        made.append(cl.ExactMatch("sex"))
    if "phone" in present:
        made.append(cl.LevenshteinAtThresholds("phone", [1]))
    if "email" in present:
        made.append(cl.EmailComparison("email"))
    if "postcode" in present:
        made.append(cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]))
    if "city" in present:
        made.append(cl.JaroWinklerAtThresholds("city", [0.9, 0.8]))
    return made


def _full_name_comparison() -> Any:
    """Given name and surname as one comparison, so swapped names (a frequent clerical
    error, and common with names from outside Europe) earn their own level."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    given, surname = "given_name", "surname"
    return cl.CustomComparison(
        comparison_description="full name",
        output_column_name="full_name",
        comparison_levels=[
            cll.And(cll.NullLevel(given), cll.NullLevel(surname)),
            cll.And(cll.ExactMatchLevel(given), cll.ExactMatchLevel(surname)),
            cll.ColumnsReversedLevel(given, surname, symmetrical=True),
            cll.And(cll.JaroWinklerLevel(given, 0.92), cll.JaroWinklerLevel(surname, 0.92)),
            cll.And(cll.JaroWinklerLevel(given, 0.8), cll.JaroWinklerLevel(surname, 0.8)),
            cll.And(cll.ExactMatchLevel(surname), cll.JaroWinklerLevel(given, 0.7)),
            cll.And(cll.ExactMatchLevel(given), cll.JaroWinklerLevel(surname, 0.7)),
            cll.ExactMatchLevel(surname),
            cll.ExactMatchLevel(given),
            cll.And(cll.JaroWinklerLevel(given, 0.7), cll.JaroWinklerLevel(surname, 0.7)),
            cll.ElseLevel(),
        ],
    )


def _rules(present: set[str], candidates: Sequence[tuple[str, ...]]) -> list[Any]:
    from splink import block_on

    rules: list[Any] = []
    for cols in candidates:
        if not set(cols) - {"<swapped>"} <= present:
            continue
        if cols == SWAPPED:
            rules.append('l."given_name" = r."surname" and l."surname" = r."given_name"')
        else:
            rules.append(block_on(*cols))
    return rules


SWAPPED = ("given_name", "surname", "<swapped>")
PREDICTION_BLOCKS = (
    ("given_name", "surname"), SWAPPED, ("date_of_birth",), ("postcode",), ("surname", "city"),
    ("given_name", "city"), ("phone",), ("email",),
)
TRAINING_BLOCKS = (("date_of_birth",), ("given_name", "surname"), ("postcode",))
# Below this many pairs random sampling mostly meets the duplicates themselves and EM has
# nothing to learn from; Splink's default m and u values are used instead.
MIN_PAIRS_TO_TRAIN = 1000
DETERMINISTIC = (("given_name", "surname", "date_of_birth"), ("phone",), ("email",))


def _splink_pairs(left: Sequence[Mapping[str, str]], right: Sequence[Mapping[str, str]] | None,
                  *, threshold: float, progress: Progress) -> list[Pair]:
    from splink import DuckDBAPI, Linker, SettingsCreator

    frames = [_frame(left)] if right is None else [_frame(left), _frame(right)]
    if (right is None and len(left) < 2) or (right is not None and (not left or not right)):
        return []
    present = {c for c in MATCH_COLUMNS if _present(frames, c)}
    comparisons = _comparisons(present)
    blocks = _rules(present, PREDICTION_BLOCKS)
    if not comparisons or not blocks:
        return []
    settings = SettingsCreator(
        link_type="dedupe_only" if right is None else "link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocks,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        # Replaced by the deterministic-rule estimate when there is enough data; for a small
        # file, roughly one duplicate per record pair-neighbourhood.
        probability_two_random_records_match=min(0.1, 1.0 / max(len(left), 2)),
    )
    splink_logger = logging.getLogger("splink")
    previous = splink_logger.level
    splink_logger.setLevel(logging.ERROR)  # Splink narrates training at INFO and WARNING
    try:
        db_api = DuckDBAPI()
        tables = [db_api.register(f, dataset_display_name=name)
                  for f, name in zip(frames, ("persons_a", "persons_b"), strict=False)]
        linker = Linker(tables if right is not None else tables[0], settings, log_level=None)
        _train(linker, present, n_pairs=_pair_count(len(left), None if right is None
                                                    else len(right)), progress=progress)
        progress("predict", 0.0)
        predictions = linker.inference.predict(threshold_match_probability=threshold,
                                               warning_mode="never").as_pandas_dataframe()
        progress("predict", 1.0)
    finally:
        splink_logger.setLevel(previous)
    pairs: list[Pair] = []
    for row in predictions.itertuples(index=False):
        id_l, id_r = str(row.unique_id_l), str(row.unique_id_r)
        swapped = (getattr(row, "source_dataset_l", "persons_a") != "persons_a"
                   if right is not None else id_r < id_l)
        if swapped:
            id_l, id_r = id_r, id_l
        pairs.append(Pair(id_l, id_r, float(row.match_probability)))
    return pairs


def _pair_count(n_left: int, n_right: int | None) -> int:
    return n_left * (n_left - 1) // 2 if n_right is None else n_left * n_right


def _fixed_u(linker: Any) -> None:
    """Fallback u values for files too small to sample: closer agreement is rarer by chance.

    The exact level of each comparison gets u = 0.01, each looser level doubles it, and the
    last level takes the rest; Splink's default m values stay.
    """
    for comparison in linker._settings_obj.comparisons:
        levels = [lv for lv in comparison.comparison_levels if not lv.is_null_level]
        used = 0.0
        for position, level in enumerate(levels[:-1]):
            level.u_probability = 0.01 * 2 ** position
            used += level.u_probability
        if levels:
            levels[-1].u_probability = max(0.05, 1.0 - used)


def _train(linker: Any, present: set[str], *, n_pairs: int, progress: Progress) -> None:
    """Prior, then u by random sampling, then m by EM; each step keeps defaults if it fails.

    Small files (a handful of rows) give sampling and EM too little to work with; they get
    fixed u values (``_fixed_u``) and Splink's default m values.
    """
    from splink.internals.exceptions import SplinkException

    failures = (SplinkException, ValueError, ZeroDivisionError, KeyError, RuntimeError)
    progress("train", 0.0)
    small = n_pairs < MIN_PAIRS_TO_TRAIN
    deterministic = _rules(present, DETERMINISTIC)
    if deterministic and not small:
        with contextlib.suppress(*failures):
            linker.training.estimate_probability_two_random_records_match(
                deterministic, recall=0.5)
    progress("train", 0.2)
    with contextlib.suppress(*failures):
        linker.training.estimate_u_using_random_sampling(
            max_pairs=float(min(max(n_pairs, 1), 2_000_000)), seed=SEED)
    if small:
        _fixed_u(linker)
        progress("train", 1.0)
        return
    progress("train", 0.5)
    rules = _rules(present, TRAINING_BLOCKS)
    for step, rule in enumerate(rules, start=1):
        with contextlib.suppress(*failures):
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True)
        progress("train", 0.5 + 0.5 * step / len(rules))
