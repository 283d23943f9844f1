"""Recency, opt-in: relevance multiplied by an exponential decay on the age of each article.

As Elasticsearch's `function_score` with an `exp` decay (origin now, offset 0, scale the
half-life, decay 0.5, boost_mode multiply): an article `age` old scores
relevance × 0.5 ** (age / half_life). The age is the distance from now to the article's date
interval, 0 when now lies within it (an article dated `2019` is as old as 2019-12-31T23:59:59).
An undated article's age is unknown: its factor is 0, so it ranks after every dated hit.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import numpy.typing as npt

from newssearch.engine import schema
from newssearch.errors import NewssearchError

DAY = 86_400
# Durations, not calendar steps: a month is a twelfth of the mean Gregorian year.
UNITS = {"d": DAY, "w": 7 * DAY, "m": 365.2425 * DAY / 12, "y": 365.2425 * DAY}
_HALF_LIFE = re.compile(r"(\d+)([dwmy])")


def half_life(text: str) -> float:
    """Returns the half-life `text` names (`30d`, `2w`, `6m`, `1y`), in seconds.

    Raises NewssearchError for anything else, and for a zero or unreasonably long half-life.
    """
    match = _HALF_LIFE.fullmatch(text.strip())
    if match is None or len(match[1]) > 6 or int(match[1]) == 0:
        raise NewssearchError(
            f"recency must be a half-life of 1 to 999999 days, weeks, months or years "
            f"(30d, 2w, 6m, 1y), not {text!r}"
        )
    return int(match[1]) * UNITS[match[2]]


def log_factors(
    starts: npt.NDArray[Any], ends: npt.NDArray[Any], now: int, seconds: float
) -> npt.NDArray[np.float64]:
    """Returns the natural log of each article's decay factor (-inf for the undated ones).

    Logs, so that a ranking by relevance × factor survives factors too small for a float.
    """
    age = np.maximum(np.maximum(now - ends, starts - now), 0).astype(np.float64)
    found: npt.NDArray[Any] = -math.log(2) * age / seconds
    found[starts == schema.UNDATED] = -np.inf
    return found
