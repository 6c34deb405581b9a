"""Surveillance schedules: on which days after infusion a clinic draws blood or images.

A :class:`Schedule` is a list of :class:`Piece` items, each "every ``every_days`` days until
``until_day``". Each piece continues from the last draw of the one before: its first draw is
that draw's day plus its own interval (the first piece starts at day ``every_days``), unless
``start_day`` says otherwise. "Every 4 weeks in year 1, then every 3 months" (science.md 4.4) is
``[Piece(every_days=28, until_day=365), Piece(every_days=91)]``: days 28, 56, ..., 364, then
455, 546, 637, 728, ...

Example:
    >>> s = Schedule(pieces=[{"every_days": 28, "until_day": 365}, {"every_days": 91}])
    >>> s.days(730)[-5:].tolist()
    [364.0, 455.0, 546.0, 637.0, 728.0]
    >>> Schedule.every(30).days(100).tolist()
    [30.0, 60.0, 90.0]
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError

#: Most draws one schedule may produce over a follow-up (guards against a typo like every_days=1e-6).
MAX_DRAWS = 1_000_000
_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Piece(BaseModel):
    """One stretch of a schedule: a draw every ``every_days`` days up to ``until_day`` (inclusive)."""

    model_config = _CONFIG

    every_days: float = Field(gt=0, description="interval between draws", json_schema_extra={"unit": "day"})
    until_day: float | None = Field(
        None, gt=0, description="last day this piece may draw on (inclusive); None: until the end of follow-up",
        json_schema_extra={"unit": "day"})
    start_day: float | None = Field(
        None, gt=0, description="day of the piece's first draw; None: the previous piece's last draw (day 0 for "
                                "the first piece) plus every_days", json_schema_extra={"unit": "day"})


class Schedule(BaseModel):
    """Draw days as consecutive :class:`Piece` items (sorted, unique, in (0, follow_up])."""

    model_config = _CONFIG

    pieces: list[Piece] = Field(min_length=1, description="consecutive pieces, in time order")

    @field_validator("pieces")
    @classmethod
    def _consecutive(cls, pieces):
        for i, (piece, following) in enumerate(zip(pieces, pieces[1:], strict=False)):
            if piece.until_day is None:
                raise ValueError(f"piece {i} has no until_day, so piece {i + 1} would never start; "
                                 "give every piece but the last an until_day")
            if following.until_day is not None and following.until_day <= piece.until_day:
                raise ValueError(f"until_day must increase from piece to piece: piece {i + 1} ends at day "
                                 f"{following.until_day:g}, not after piece {i}'s day {piece.until_day:g}")
            if following.start_day is not None and following.start_day <= piece.until_day:
                raise ValueError(f"piece {i + 1} starts at day {following.start_day:g}, inside piece {i} "
                                 f"(until day {piece.until_day:g}); start it after that day")
        return pieces

    @classmethod
    def every(cls, days: float) -> Schedule:
        """A draw every ``days`` days, from day ``days`` on."""
        return cls(pieces=[Piece(every_days=days)])

    def days(self, follow_up: float) -> np.ndarray:
        """Draw days (float array; sorted, unique, > 0 and <= ``follow_up``) over ``follow_up`` days."""
        if isinstance(follow_up, bool) or not isinstance(follow_up, (int, float, np.integer, np.floating)) \
                or not math.isfinite(follow_up) or follow_up < 0:
            raise InputError(f"schedule: follow_up must be a finite number of days >= 0, got {follow_up!r}")
        out, last = [], 0.0
        for piece in self.pieces:
            start = piece.start_day if piece.start_day is not None else last + piece.every_days
            end = min(float(follow_up), piece.until_day if piece.until_day is not None else math.inf)
            if start > end * (1 + 1e-12):
                continue
            # index-based (no accumulated rounding); a draw within 1e-12 relative of the end stays, clipped to it
            n = max(math.floor((end - start) / piece.every_days * (1 + 1e-12) + 1e-9) + 1, 1)
            if n + sum(map(len, out)) > MAX_DRAWS:
                raise InputError(f"schedule: more than {MAX_DRAWS} draws over {follow_up:g} days "
                                 f"(every_days={piece.every_days:g}); check the interval's unit (days)")
            days = np.minimum(start + piece.every_days * np.arange(n), end)
            out.append(days)
            last = float(days[-1])
        return np.unique(np.concatenate(out)) if out else np.zeros(0)

    def n_draws(self, follow_up: float) -> int:
        """Number of draws over ``follow_up`` days (e.g. to size :func:`~.monitoring.assay_uniforms`)."""
        return int(self.days(follow_up).size)
