"""Reference problems and error metrics shared by the numerics tests and benchmarks."""

import numpy as np

from celltrial.solve import Bolus
from celltrial.solve.reference import scipy_reference as _reference


def trajectory_error(x, ref, floor=1.0):
    """max |x - ref| / max(|ref|, floor): relative above `floor`, absolute below it."""
    return float(np.max(np.abs(x - ref) / np.maximum(np.abs(ref), floor)))


def cart_doses(first=1e8, later=5e7, days=(90.0, 180.0, 270.0)):
    """Day-0 infusion plus repeat doses, 20 % stem-like memory / 80 % effector cells."""
    comp = {"S": 0.2, "E": 0.8}
    return [Bolus.split(0.0, first, comp)] + [Bolus.split(d, later, comp) for d in days]


def scipy_reference(compiled, p, y0, doses, t_eval, rtol=1e-10, atol=1e-10):
    """Radau solve restarted at each dose; the value saved on a dose day is post-dose."""
    return _reference(compiled, p, y0, doses, t_eval, rtol=rtol, atol=atol)
