"""Per-patient random streams, reproducible whatever the batching.

Every random draw made for a patient comes from its own stream, spawned from the trial seed
with ``numpy.random.SeedSequence(entropy=seed, spawn_key=(patient, PURPOSES[purpose]))``. A
patient's draws therefore depend only on (seed, patient index, purpose): they are the same
whether the patient is sampled alone, in a chunk of ten or in a cohort of a million, by one
worker or by sixteen, first or last. Each purpose (random effects, covariates, extinction,
assay noise, ...) has its own stream, so adding draws for one purpose never shifts another.

:func:`patient_blocks` draws a fixed-size block for many patients at once. It computes the
SeedSequence hash and the PCG64 seeding for all patients with vectorised numpy and then only
loads each patient's state into one reused generator: about 3-5 us per patient instead of about
30 us for building a ``Generator`` per patient. Its output is checked once per process
against :func:`patient_rng`; if a future numpy changed the seeding, the slow exact path is
used instead, so results never silently change.

Example:
    >>> import numpy as np
    >>> block = patient_blocks(seed=2024, patients=[0, 1, 2], purpose="iiv", size=3)
    >>> block.shape
    (3, 3)
    >>> bool(np.array_equal(block[1], patient_rng(2024, 1, "iiv").standard_normal(3)))
    True
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import InputError, did_you_mean

# Stream codes are part of the reproducibility contract: append new purposes, never renumber.
PURPOSES = {
    "iiv": 0,  # inter-individual variability: random effects eta
    "covariates": 1,  # patient covariates (weight, age, disease stage, ...)
    "extinction": 2,  # stochastic extinction of small cell populations
    "assay": 3,  # measurement noise, limits of detection
    "logistics": 4,  # manufacturing time, dropout, scheduling
    "policy": 5,  # randomised treatment decisions
    "outcomes": 6,  # random clinical outcomes read off the course (GvHD onset and fatality)
    "mrd": 7,  # MRD assay sampling (kept apart from ctDNA so either schedule can change alone)
    "dose": 8,  # per-patient product dose: pooled dose level, manufacturing spread, CAR+ fraction
}
DRAWS = ("standard_normal", "random")

_M32 = 0xFFFFFFFF
_M128 = (1 << 128) - 1
_M64 = (1 << 64) - 1
# Constants of numpy's SeedSequence (numpy/random/bit_generator.pyx) and of PCG64 (pcg64.h).
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645


def check_seed(seed) -> int:
    """Return ``seed`` as an int; a trial seed must be a non-negative integer."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def purpose_code(purpose: str) -> int:
    """The stream code of ``purpose`` (see :data:`PURPOSES`)."""
    if purpose not in PURPOSES:
        raise InputError(
            f"unknown random-stream purpose {purpose!r}{did_you_mean(str(purpose), PURPOSES)}; "
            f"known purposes: {', '.join(PURPOSES)}"
        )
    return PURPOSES[purpose]


def patient_rng(seed: int, patient: int, purpose: str = "iiv") -> np.random.Generator:
    """The random generator of one patient for one purpose.

    Args:
        seed: the trial seed, a non-negative integer.
        patient: the patient's index in the trial (0, 1, 2, ...), not its position in a batch.
        purpose: one of :data:`PURPOSES`.

    Example:
        >>> a = patient_rng(7, 3, "assay").random()
        >>> a == patient_rng(7, 3, "assay").random() != patient_rng(7, 3, "iiv").random()
        True
    """
    code = purpose_code(purpose)
    seed = check_seed(seed)
    if isinstance(patient, (bool, np.bool_)) or not isinstance(patient, (int, np.integer)) or patient < 0:
        raise InputError(f"patient must be a non-negative integer index, got {patient!r}")
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(int(patient), code))
    return np.random.Generator(np.random.PCG64(sequence))


def _as_patients(patients) -> np.ndarray:
    ids = np.asarray(patients)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise InputError(f"patients must be a 1-D sequence of integer indices, got {patients!r:.80}")
    if ids.size and ids.min() < 0:
        raise InputError(f"patient indices must be non-negative, got {int(ids.min())}")
    return ids.astype(np.int64)


def patient_blocks(seed: int, patients, purpose: str, size: int, draw: str = "standard_normal") -> np.ndarray:
    """Draw the first ``size`` numbers of each patient's stream: an (n_patients, size) array.

    Row i equals ``getattr(patient_rng(seed, patients[i], purpose), draw)(size)`` bit for bit.

    Args:
        seed: trial seed.
        patients: patient indices (any order, repeats allowed).
        purpose: one of :data:`PURPOSES`.
        size: numbers per patient (fixed, so no patient's draws depend on another's).
        draw: "standard_normal" (N(0, 1)) or "random" (uniform on [0, 1)).
    """
    code = purpose_code(purpose)
    seed = check_seed(seed)
    ids = _as_patients(patients)
    if draw not in DRAWS:
        raise InputError(f"draw must be one of {DRAWS}, got {draw!r}{did_you_mean(str(draw), DRAWS)}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise InputError(f"size must be a non-negative integer, got {size!r}")
    out = np.empty((ids.size, int(size)), dtype=np.float64)
    if ids.size == 0 or size == 0:
        return out
    if fast_streams_available() and ids.max() <= _M32:
        _fill_fast(out, seed, ids, code, draw)
    else:
        for row, patient in zip(out, ids.tolist(), strict=True):
            getattr(patient_rng(seed, patient, purpose), draw)(out=row)
    return out


def _words(value: int) -> list:
    """Little-endian 32-bit words of a non-negative int, as SeedSequence splits entropy."""
    words = [value & _M32]
    value >>= 32
    while value:
        words.append(value & _M32)
        value >>= 32
    return words


class _Hasher:
    """SeedSequence's hashmix, vectorised over patients; its multiplier walk is data-free."""

    def __init__(self):
        self.const = _INIT_A

    def hashmix(self, value):
        value = value ^ np.uint32(self.const)
        self.const = (self.const * _MULT_A) & _M32
        value = value * np.uint32(self.const)
        return value ^ (value >> np.uint32(16))


def _mix(x, y):
    result = np.uint32(_MIX_L) * x - np.uint32(_MIX_R) * y
    return result ^ (result >> np.uint32(16))


def _seed_words(seed: int, ids: np.ndarray, code: int) -> list:
    """SeedSequence(seed, spawn_key=(id, code)).generate_state(4, uint64) for every id (< 2**32)."""
    n = ids.size
    run = _words(seed)
    run += [0] * (4 - len(run))  # numpy pads run entropy to the pool size when spawn_key is set
    entropy = [np.full(n, w, np.uint32) for w in run] + [ids.astype(np.uint32), np.full(n, code, np.uint32)]
    hasher = _Hasher()
    pool = [hasher.hashmix(entropy[i]) for i in range(4)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = _mix(pool[dst], hasher.hashmix(pool[src]))
    for src in range(4, len(entropy)):
        for dst in range(4):
            pool[dst] = _mix(pool[dst], hasher.hashmix(entropy[src]))
    const, out = _INIT_B, []
    for i in range(8):
        value = pool[i % 4] ^ np.uint32(const)
        const = (const * _MULT_B) & _M32
        value = value * np.uint32(const)
        out.append(value ^ (value >> np.uint32(16)))
    return [
        out[2 * k].astype(np.uint64) | (out[2 * k + 1].astype(np.uint64) << np.uint64(32)) for k in range(4)
    ]


def _fill_fast(out: np.ndarray, seed: int, ids: np.ndarray, code: int, draw: str) -> None:
    """Load each patient's PCG64 state into one generator and draw its block into ``out``."""
    generator = np.random.Generator(np.random.PCG64(0))
    bit_generator, fill = generator.bit_generator, getattr(generator, draw)
    state = {"bit_generator": "PCG64", "state": {"state": 0, "inc": 1}, "has_uint32": 0, "uinteger": 0}
    inner = state["state"]
    for i, (pcg_state, inc) in enumerate(_pcg_seeds(seed, ids, code)):
        inner["state"], inner["inc"] = pcg_state, inc
        bit_generator.state = state
        fill(out=out[i])


def _pcg_seeds(seed: int, ids: np.ndarray, code: int):
    """(state, inc) of each patient's seeded PCG64, as 128-bit Python ints."""
    with np.errstate(over="ignore"):  # uint32 hashing wraps modulo 2**32 on purpose
        w0, w1, w2, w3 = (w.tolist() for w in _seed_words(seed, ids, code))
    for i in range(len(w0)):
        # pcg_setseq_128_srandom_r: state = 0; step; state += initstate; step (mod 2**128).
        inc = (((w2[i] << 64) | w3[i]) << 1 | 1) & _M128
        yield ((inc + ((w0[i] << 64) | w1[i])) * _PCG_MULT + inc) & _M128, inc


def patient_pcg_states(seed: int, patients, purpose: str) -> np.ndarray:
    """Seeded PCG64 state of each patient's stream, as (n, 4) uint64 [state hi, lo, inc hi, lo].

    A compiled consumer (the solver's stochastic cure) steps these itself: its k-th double is
    ``patient_rng(seed, patient, purpose).random()``'s k-th, bit for bit, and no block of
    numbers is drawn ahead for patients that never need one.
    """
    code = purpose_code(purpose)
    seed = check_seed(seed)
    ids = _as_patients(patients)
    out = np.zeros((ids.size, 4), dtype=np.uint64)
    if ids.size == 0:
        return out
    if fast_streams_available() and ids.max() <= _M32:
        seeds = _pcg_seeds(seed, ids, code)
    else:
        seeds = ((g["state"], g["inc"]) for g in (patient_rng(seed, int(i), purpose).bit_generator.state["state"]
                                                  for i in ids))
    for i, (state, inc) in enumerate(seeds):
        out[i] = (state >> 64, state & _M64, inc >> 64, inc & _M64)
    return out


@functools.lru_cache(maxsize=1)
def fast_streams_available() -> bool:
    """Whether the vectorised seeding reproduces :func:`patient_rng` with this numpy."""
    ids = np.array([0, 1, 977, _M32], dtype=np.int64)
    for seed in (0, 20240229, 2**70 + 3, 2**200 + 1):
        for draw in DRAWS:
            fast = np.empty((ids.size, 3))
            try:
                _fill_fast(fast, seed, ids, 5, draw)
            except Exception:  # a changed state layout in a future numpy: use the exact slow path
                return False
            for row, patient in zip(fast, ids.tolist(), strict=True):
                if not np.array_equal(row, getattr(patient_rng(seed, patient, "policy"), draw)(3)):
                    return False
    return True
