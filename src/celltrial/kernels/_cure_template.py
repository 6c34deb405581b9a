# ---- celltrial stochastic cure inside the solver (template) ----------------------------------
# Appended to each model's kernel module with the Rodas template (which calls cure_checks).
#
# Check days T_k = min(t0 + k * every, horizon), k = 0..n_checks. At T_k the kernel ends interval
# k-1 (each clone that was small at T_{k-1} gets its exact birth-death size, Kendall 1948) and
# begins interval k (each clone below the threshold is rounded, unbiasedly, to an integer). A
# clone that is not small needs nothing at a check, so the integrator steps freely over check
# days and only lands on them while some clone is small (or becomes small, found with the dense
# output). Uniform number (k * n_clones + c) * 3 + d of the patient's stream drives draw d of
# clone c in interval k; the stream is numpy's PCG64 (same numbers as numpy's Generator.random)
# or an explicit table. Written here, not with numpy/scipy, because it runs per patient inside
# the compiled step loop, where neither can be called.

_U64_32 = np.uint64(32)
_U64_M32 = np.uint64(0xFFFFFFFF)
_PCG_MULT_HI = np.uint64(0x2360ED051FC65DA4)
_PCG_MULT_LO = np.uint64(0x4385DF649FCCF645)
_TWO_M53 = 1.0 / 9007199254740992.0
# cu_int columns: next check index, uniforms consumed from the stream, log entries written
CU_NEXT, CU_POS, CU_NLOG = 0, 1, 2
CU_DRAWS = 3  # uniforms per clone and check: rounding, survivors, their offspring
_JIT_CU = {"cache": True, "error_model": "numpy", "nogil": True}


@numba.njit(**_JIT_CU)
def mul_hi64(a, b):
    """High 64 bits of the 128-bit product of two uint64 (no 128-bit integers in numba)."""
    a_lo, a_hi = a & _U64_M32, a >> _U64_32
    b_lo, b_hi = b & _U64_M32, b >> _U64_32
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    cross = (lo_lo >> _U64_32) + (hi_lo & _U64_M32) + a_lo * b_hi
    return a_hi * b_hi + (hi_lo >> _U64_32) + (cross >> _U64_32)


@numba.njit(**_JIT_CU)
def pcg_step(rng):
    """One PCG64 step, state = state * mult + inc (mod 2**128); rng = [state hi, lo, inc hi, lo]."""
    s_hi, s_lo = rng[0], rng[1]
    lo = s_lo * _PCG_MULT_LO
    hi = mul_hi64(s_lo, _PCG_MULT_LO) + s_lo * _PCG_MULT_HI + s_hi * _PCG_MULT_LO
    new_lo = lo + rng[3]
    carry = np.uint64(1) if new_lo < lo else np.uint64(0)
    rng[0] = hi + rng[2] + carry
    rng[1] = new_lo


@numba.njit(**_JIT_CU)
def pcg_uniform(rng):
    """Next double in [0, 1) exactly as numpy's PCG64 Generator.random (XSL-RR output)."""
    pcg_step(rng)
    hi, lo = rng[0], rng[1]
    rot = hi >> np.uint64(58)
    x = hi ^ lo
    out = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
    return float(out >> np.uint64(11)) * _TWO_M53


@numba.njit(**_JIT_CU)
def cure_uniform(j, cu_int, rng, table):
    """Uniform number j of the patient's extinction stream (j never decreases between calls)."""
    if table.shape[0] > 0:
        return table[j]
    while cu_int[CU_POS] < j:  # skip numbers of checks that needed none
        pcg_step(rng)
        cu_int[CU_POS] += 1
    cu_int[CU_POS] = j + 1
    return pcg_uniform(rng)


@numba.njit(**_JIT_CU)
def summed_ppf(u, log_first, a, sign, c, limit):
    """Smallest k < limit with sum_{j<=k} pmf(j) >= u, for a pmf whose successive terms have the
    ratio pmf(j+1)/pmf(j) = (a + sign*j)/(j + 1) * c (binomial and negative binomial alike).
    Leading terms too small to represent (below e^-650) are stepped over in log space."""
    log_term = log_first
    k = 0.0
    while k < limit and log_term < -650.0:
        log_term += math.log((a + sign * k) / (k + 1.0) * c)
        k += 1.0
    term = math.exp(log_term)
    cdf = 0.0
    while k < limit:
        cdf += term
        if cdf >= u:
            return k
        term *= (a + sign * k) / (k + 1.0) * c
        k += 1.0
    return limit


@numba.njit(**_JIT_CU)
def binomial_ppf(u, n, p):
    """Smallest k with P(X <= k) >= u, X ~ Binomial(n, p) (n is below the cure threshold, ~100)."""
    if n <= 0.0 or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return n
    return summed_ppf(u, n * math.log1p(-p), n, -1.0, p / (1.0 - p), n)


@numba.njit(**_JIT_CU)
def neg_binomial_ppf(u, s, q):
    """Smallest k with P(K <= k) >= u, K failures before s successes of probability q."""
    if s <= 0.0 or q >= 1.0:
        return 0.0
    mean = s * (1.0 - q) / q
    limit = mean + 50.0 * math.sqrt(mean / q + 1.0) + 100.0  # past it the tail is below round-off
    return summed_ppf(u, s * math.log(q), s, 1.0, 1.0 - q, limit)


@numba.njit(**_JIT_CU)
def kendall(growth, b, dt):
    """(alpha, beta) of a linear birth-death process over dt with e^{r dt} = growth, birth b."""
    if growth <= 0.0:
        return 1.0, 0.0
    r = math.log(max(growth, 1e-300)) / dt
    d = max(b - r, 0.0)
    if abs(r * dt) < 1e-9:
        a = b * dt / (1.0 + b * dt)
        return min(max(a, 0.0), 1.0), min(max(a, 0.0), 1.0 - 1e-12)
    den = b * growth - d
    if den == 0.0:  # no births and no deaths: nothing changes
        return 0.0, 0.0
    alpha = min(max(d * (growth - 1.0) / den, 0.0), 1.0)
    beta = b * (growth - 1.0) / den
    if not beta == beta:
        beta = 0.0
    return alpha, min(max(beta, 0.0), 1.0 - 1e-12)


@numba.njit(**_JIT_CU)
def birth_death_size(n0, n1, b, dt, u_survive, u_size):
    """Integer size after dt of n0 cells whose deterministic path ends at n1 (see extinction.py)."""
    alpha, beta = kendall(n1 / n0, b, dt)
    survivors = binomial_ppf(u_survive, n0, 1.0 - alpha)
    if survivors <= 0.0:
        return 0.0
    return survivors + neg_binomial_ppf(u_size, survivors, 1.0 - beta)


@numba.njit(**_JIT_CU)
def cure_time(k, cu_glob):
    """Check day k: min(t0 + k * every, horizon); cu_glob = [t0, every, horizon, threshold]."""
    return min(cu_glob[0] + k * cu_glob[1], cu_glob[2])


@numba.njit(**_JIT_CU)
def cure_set(t, j, value, y, cu_int, cu_log):
    y[j] = value
    m = cu_int[CU_NLOG]
    if m < cu_log.shape[0]:
        cu_log[m, 0] = t
        cu_log[m, 1] = j
        cu_log[m, 2] = value
    if cu_log.shape[0] > 0:
        cu_int[CU_NLOG] = m + 1  # counts past the capacity, so the caller can tell it overflowed


@numba.njit(**_JIT_CU)
def cure_check(k, y, cu_idx, cu_glob, n_checks, birth, n0, ext, cu_int, rng, table, cu_log):
    """End interval k-1 (draws) and begin interval k (rounding) at check day k; True if y changed."""
    nc = cu_idx.shape[0]
    thr = cu_glob[3]
    t = cure_time(k, cu_glob)
    changed = False
    if k >= 1:
        dt = t - cure_time(k - 1, cu_glob)
        for c in range(nc):
            if 0.0 < n0[c] < thr and dt > 0.0:
                base = ((k - 1) * nc + c) * CU_DRAWS
                u1 = cure_uniform(base + 1, cu_int, rng, table)
                u2 = cure_uniform(base + 2, cu_int, rng, table)
                value = birth_death_size(n0[c], y[cu_idx[c]], birth[c], dt, u1, u2)
                cure_set(t, cu_idx[c], value, y, cu_int, cu_log)
                changed = True
                if value == 0.0:
                    ext[c] = t
    for c in range(nc):
        v = y[cu_idx[c]]
        if k < n_checks and 0.0 < v < thr:
            whole = math.floor(v)
            if cure_uniform((k * nc + c) * CU_DRAWS, cu_int, rng, table) < v - whole:
                whole += 1.0
            if whole != v:
                cure_set(t, cu_idx[c], whole, y, cu_int, cu_log)
                changed = True
            if whole == 0.0:
                ext[c] = t
            v = whole
        n0[c] = v
    return changed


@numba.njit(**_JIT_CU)
def cure_small(n0, thr):
    """Whether some clone was small at the last check (the next check must be landed on)."""
    for c in range(n0.shape[0]):
        if 0.0 < n0[c] < thr:
            return True
    return False


@numba.njit(**_JIT_CU)
def cure_scan(t, h, y0, y1, c3, c4, cu_idx, cu_glob, n_checks, k):
    """First check day in (t, t + h] at which the dense output puts a clone below the threshold
    (while no clone is small, so the step may cross check days), or inf."""
    thr = cu_glob[3]
    while k <= n_checks:
        tc = cure_time(k, cu_glob)
        if tc > t + h:
            break
        if tc > t:
            theta = (tc - t) / h
            s1 = 1.0 - theta
            for c in range(cu_idx.shape[0]):
                i = cu_idx[c]
                v = y0[i] * s1 + theta * (y1[i] + s1 * (c3[i] + theta * c4[i]))
                if 0.0 < v < thr:
                    return tc
        k += 1
    return math.inf
