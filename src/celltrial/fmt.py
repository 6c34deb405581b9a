"""Numbers as a reader writes them, shared by every layer (presets, CLI, report).

It sits at the bottom of the package (standard library only) so that low layers, such as the
preset documentation, write numbers exactly as the report does without importing the report.
Every helper returns "n/a" for missing or non-finite input.

Example:
    >>> fmt_sig(1e9), fmt_sig(0.01234), fmt_sig(1234.6)
    ('10⁹', '0.0123', '1,235')
    >>> fmt_sci(2.5e-4), fmt_ref(1.08936), fmt_ref(None)
    ('2.5×10⁻⁴', '1.09', 'n/a')
"""

from __future__ import annotations

import math

NA = "n/a"


def num(x) -> float | None:
    """``x`` as a finite float, else None (None, NaN, inf, strings that are not numbers)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_sci(v: float, digits: int = 3) -> str:
    """Scientific notation as a reader writes it: 1e9 -> '10⁹', 2.5e-4 -> '2.5×10⁻⁴'."""
    mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    return power if mantissa == "1" else ("-" + power if mantissa == "-1" else f"{mantissa}×{power}")


def fmt_sig(x, digits: int = 3) -> str:
    """A number with ``digits`` significant figures: 1234.5 -> '1,235', 0.01234 -> '0.0123', 3e9 -> '3×10⁹'."""
    v = num(x)
    if v is None:
        return NA
    if v == 0:
        return "0"
    if abs(v) >= 1e6 or abs(v) < 1e-3:
        return fmt_sci(v, digits)
    if abs(v) >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    decimals = digits - 1 - int(math.floor(math.log10(abs(v))))
    return f"{v:,.{decimals}f}"


def fmt_ref(x) -> str:
    """A threshold or limit to 3 significant figures, without padding zeros: 1.0 -> '1', 0.1 -> '0.1',
    1.08936 -> '1.09', 1e9 -> '10⁹'."""
    v = num(x)
    if v is None:
        return NA
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return fmt_sci(v, 3)
    return f"{float(f'{v:.3g}'):,.10g}"  # round to 3 significant figures first, then drop padding zeros
