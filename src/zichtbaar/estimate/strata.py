"""Strata: is there enough in one group (age band, year, ...) for an estimate?

Estimating per stratum multiplies the sparse-data problem: a group where
the lists do not overlap, or where hardly anyone is registered twice, gives
an estimate that is pure model assumption. Such strata are reported as
"insufficient data" with the reason, never as a number (HRDAG's practice,
and what the issue asks for).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .histories import CaptureHistories

__all__ = ["MIN_OBSERVED", "MIN_OVERLAP", "StratumCheck", "check_stratum", "drop_empty_lists"]

#: Fewer people than this in a stratum: no estimate. Ten is the smallest table in
#: the reference data sets' spirit (artificial3 has 96); below it every model is noise.
MIN_OBSERVED = 10
#: Fewer people on two or more lists than this: the overlaps, which carry all the
#: information about the hidden number, are too few to say anything.
MIN_OVERLAP = 3


@dataclass(frozen=True)
class StratumCheck:
    """Whether a stratum can be estimated; ``code`` names the reason when not."""

    ok: bool
    code: str | None = None
    details: dict[str, object] | None = None


def drop_empty_lists(h: CaptureHistories) -> tuple[CaptureHistories, list[str]]:
    """Leave out lists with no one on them in this stratum (their effect is -inf)."""
    on = (h.patterns.astype(np.int64) * h.counts[:, None]).sum(axis=0) > 0
    if on.all():
        return h, []
    empty = [name for name, o in zip(h.lists, on, strict=True) if not o]
    if int(on.sum()) < 2:
        return h, empty
    keep = np.flatnonzero(on)
    pat = h.patterns[:, keep]
    return CaptureHistories(tuple(h.lists[j] for j in keep), pat, h.counts,
                            covariates=h.covariates), empty


def check_stratum(h: CaptureHistories, stratum: str) -> StratumCheck:
    """Enough data for an estimate? (at least two lists used, overlaps, people)."""
    observed = h.observed
    on_lists = int(((h.patterns.astype(np.int64) * h.counts[:, None]).sum(axis=0) > 0).sum())
    multi = int(h.counts[h.patterns.sum(axis=1) >= 2].sum())
    if on_lists < 2:
        return StratumCheck(False, "stratum_too_small",
                            {"stratum": stratum, "observed": observed})
    if multi == 0:
        return StratumCheck(False, "stratum_no_overlap", {"stratum": stratum})
    if observed < MIN_OBSERVED or multi < MIN_OVERLAP:
        return StratumCheck(False, "stratum_too_small",
                            {"stratum": stratum, "observed": observed})
    return StratumCheck(True)
