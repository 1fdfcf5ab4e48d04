"""Multiple Systems Estimation: how many victims did no registration see?

A pure-Python library (it never imports Django) that reproduces the R
packages researchers use (SparseMSE, Rcapture, LCMCR) and adds strata,
covariates and clear errors. Start with :func:`load_csv` and :func:`run`;
the CLI is ``zichtbaar estimate`` (:mod:`zichtbaar.estimate.cli`).
"""

from .api import load_csv, plot, run, to_csv
from .histories import CaptureHistories, InputError
from .identifiability import checkident
from .loglinear import EstimationError, LogLinear, LogLinearResult
from .messages import message_for
from .selection import Selection, select_model

__all__ = [
    "CaptureHistories",
    "EstimationError",
    "InputError",
    "LogLinear",
    "LogLinearResult",
    "Selection",
    "checkident",
    "load_csv",
    "message_for",
    "plot",
    "run",
    "select_model",
    "to_csv",
]
