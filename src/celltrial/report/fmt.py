"""Number formatting for the report: every helper returns "n/a" for missing or non-finite input.

:func:`fmt_sig`, :func:`fmt_ref`, :func:`fmt_sci` and :func:`num` come from :mod:`celltrial.fmt`.

The summary dict is produced elsewhere and may lack keys or hold None/NaN, so every accessor
here is defensive: the report must render whatever it is given.

Example:
    >>> fmt_rate({"estimate": 0.425, "low": 0.27, "high": 0.59, "events": 17, "n": 40})
    '42.5% (27.0–59.0%) · 17/40'
    >>> fmt_median({"estimate": None, "low": 300.0, "high": None})
    'not reached (95% CI 300 d – not reached)'
    >>> landmark_label(182.5), landmark_label(180.0)
    ('6 months', 'day 180')
    >>> plural(1, "replicate trial"), plural(200, "replicate trial")
    ('1 replicate trial', '200 replicate trials')
    >>> fmt_p(0.0004)
    '<0.001'
    >>> fmt_sig(1e9), fmt_sig(0.01234), fmt_sig(1234.6)
    ('10⁹', '0.0123', '1,235')
"""

from __future__ import annotations

import html

# the number primitives live at the bottom of the package (presets use them too); re-exported here
from ..fmt import NA, fmt_ref, fmt_sci, fmt_sig, num


def get(d, *keys, default=None):
    """Nested ``d[k1][k2]...`` returning ``default`` when any level is missing or not a dict."""
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d if d is not None else default


def esc(x) -> str:
    """HTML-escaped text of any value (None -> "")."""
    return html.escape("" if x is None else str(x))


def plural(n, noun: str, plural_form: str | None = None) -> str:
    """'1 replicate trial', '2 replicate trials' (``plural_form`` for irregular nouns)."""
    v = num(n)
    if v is None:
        return f"{NA} {plural_form or noun + 's'}"
    count = f"{int(v):,}" if v == int(v) else fmt_sig(v)
    return f"{count} {noun if v == 1 else (plural_form or noun + 's')}"


#: Days per month (365.25 / 12): landmarks within a day of a whole number of months are said in months.
DAYS_PER_MONTH = 30.4375


def landmark_label(day) -> str:
    """A landmark time as a reader says it: 182.5 -> '6 months', 365 -> '12 months', 180 -> 'day 180'.

    Landmarks are often set as fractions of a year (182.5 = 365 / 2), so a day count within 0.05 of
    a whole number of months (about a day and a half) is written in months, as the terminal summary
    does; anything else stays in days."""
    v = num(day)
    if v is None:
        return f"day {day}"
    months = round(v / DAYS_PER_MONTH)
    if months >= 1 and abs(v / DAYS_PER_MONTH - months) <= 0.05:
        return plural(months, "month")
    return f"day {fmt_ref(v)}"


def fmt_share(x) -> str:
    """A set fraction 0-1 (a rule, not an estimate) as a percentage without padding: 0.5 -> '50%'."""
    v = num(x)
    return NA if v is None else f"{fmt_ref(100 * v)}%"


def fmt_pct(x, decimals: int = 1) -> str:
    """A fraction 0-1 as a percentage: 0.425 -> '42.5%'."""
    v = num(x)
    return NA if v is None else f"{100 * v:.{decimals}f}%"


def _pct_ci(lo: float, hi: float) -> str:
    """'(27.0–59.0%)' without a '-0.0' from rounding noise below zero."""
    lo_s, hi_s = (f"{100 * v:.1f}".replace("-0.0", "0.0") for v in (lo, hi))
    return f"({lo_s}–{hi_s}%)"


def fmt_rate(r) -> str:
    """A proportion with its CI and counts: '42.5% (27.0–59.0%) · 17/40'."""
    est = num(get(r, "estimate"))
    if est is None:
        return NA
    text = fmt_pct(est)
    lo, hi = num(get(r, "low")), num(get(r, "high"))
    if lo is not None and hi is not None:
        text += " " + _pct_ci(lo, hi)
    events, n = get(r, "events"), get(r, "n")
    if num(events) is not None and num(n) is not None:
        text += f" · {int(num(events))}/{int(num(n))}"
    return text


def fmt_days(x) -> str:
    """Days with sensible rounding: 212.4 -> '212 d', 90.0 -> '90 d', 8.234 -> '8.23 d'."""
    v = num(x)
    if v is None:
        return NA
    return f"{v:,.0f} d" if abs(v) >= 10 else f"{fmt_sig(v)} d"


def fmt_median(m) -> str:
    """A median time with its CI; None estimate means the median was not reached.

    A missing CI bound is said in words: a missing upper bound means the curve never fell low
    enough ("not reached"); a CI with no lower bound is left out rather than shown broken.

    Example:
        >>> fmt_median({"estimate": 212.4, "low": 150.0, "high": None})
        '212 d (95% CI 150 d – not reached)'
        >>> fmt_median({"estimate": None, "low": None, "high": None})
        'not reached'
    """
    if not isinstance(m, dict):
        return NA
    est, lo, hi = num(m.get("estimate")), num(m.get("low")), num(m.get("high"))
    ci = f" (95% CI {fmt_days(lo)} – {fmt_days(hi) if hi is not None else 'not reached'})" if lo is not None else ""
    if est is None:
        # An absent key is "unknown", an explicit None is "not reached" (Kaplan-Meier never fell to 50%).
        return NA if "estimate" not in m else "not reached" + ci
    return fmt_days(est) + ci


def fmt_landmark(m) -> str:
    """A landmark survival probability with CI: '55.0% (40.2–68.1%)'."""
    est = num(get(m, "estimate"))
    if est is None:
        return NA
    lo, hi = num(get(m, "low")), num(get(m, "high"))
    ci = " " + _pct_ci(lo, hi) if lo is not None and hi is not None else ""
    return fmt_pct(est) + ci


def fmt_money(x, currency: str = "USD") -> str:
    """'USD 412,000' (rounded to whole units)."""
    v = num(x)
    return NA if v is None else f"{currency} {v:,.0f}"


def fmt_p(p) -> str:
    """A p-value: '<0.001', '0.034', '0.52'."""
    v = num(p)
    if v is None:
        return NA
    if v < 0.001:
        return "<0.001"
    return f"{v:.3f}" if v < 0.1 else f"{v:.2f}"


def fmt_hr(h) -> str:
    """A hazard ratio with CI: '0.62 (0.41–0.93)'."""
    est = num(get(h, "hr"))
    if est is None:
        return NA
    lo, hi = num(get(h, "low")), num(get(h, "high"))
    ci = f" ({lo:.2f}–{hi:.2f})" if lo is not None and hi is not None else ""
    return f"{est:.2f}{ci}"


def fmt_value(v) -> str:
    """Any scalar or small container from meta, compactly (floats to 4 significant figures; None and
    NaN as "n/a", booleans as yes/no, never Python's spelling)."""
    if v is None or (isinstance(v, float) and v != v):
        return NA
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return fmt_sci(v, 4) if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3) else f"{v:.4g}"
    if isinstance(v, list | tuple):
        return ", ".join(fmt_value(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {fmt_value(x)}" for k, x in v.items())
    return str(v)
