# ---- celltrial batched Rodas4 solver (template) ----------------------------------------------
# This file is appended to each model's generated kernel module, which defines model_rhs,
# model_jac_lu, model_lu_solve, model_observe, N_STATES, N_OBS and N_LU. Keeping the solver
# in the same module lets numba inline the model functions and cache everything on disk.
#
# Method: RODAS4 (Hairer & Wanner, Solving ODEs II, sec. IV.7; coefficients of rodas.f as
# used by KPP), L-stable, stiffly accurate, order 4(3), with its 3rd-order dense output.
# The model is autonomous between events, so the df/dt terms vanish.
# Step control: Gustafsson predictive controller on the RMS error norm with per-state atol.
# Steps land exactly on event times (doses, parameter switches) and on segment ends; saved
# outputs and in-kernel summaries use the dense output, so they never force extra steps.

GAMMA = 0.25
A21 = 1.544
A31, A32 = 0.9466785280815826, 0.2557011698983284
A41, A42, A43 = 3.314825187068521, 2.896124015972201, 0.9986419139977817
A51, A52, A53, A54 = 1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950
C21 = -5.6688
C31, C32 = -2.430093356833875, -0.2063599157091915
C41, C42, C43 = -0.1073529058151375, -9.594562251023355, -20.47028614809616
C51, C52, C53, C54 = 7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160
C61, C62, C63, C64, C65 = (
    8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054
)
D21, D22, D23, D24, D25 = (
    10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662
)
D31, D32, D33, D34, D35 = (
    -0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872
)

# Status codes (mirror celltrial.errors.Status)
ST_OK, ST_MAX_STEPS, ST_STEP_TOO_SMALL, ST_NON_FINITE = 0, 1, 2, 3
# Event kinds (mirror celltrial.solve.events)
EV_ADD, EV_SET_PARAM, EV_SCALE, EV_SET_STATE = 0, 1, 2, 3
# Summary kinds (mirror celltrial.solve.summaries)
SU_MAX, SU_MIN, SU_AUC, SU_FIRST_CROSS, SU_LAST_CROSS, SU_VALUE_AT = 0, 1, 2, 3, 4, 5
# Dense samples per step for summaries, at theta = 0, 1/2, 1: Simpson's rule on them is exact
# for the cubic dense output of a state; extrema and crossings between samples are refined.
N_SAMPLES = 3
_JIT = {"cache": True, "error_model": "numpy", "nogil": True}
# Small helpers are inlined at numba level: a call passing arrays costs reference counting.
_INLINE = {**_JIT, "inline": "always"}


@numba.njit(**_INLINE)
def rodas_step(y, p, h, lu, k, ytmp, ftmp, ynew):
    """One Rodas4 step of size h from y; lu must hold the factors of I/(GAMMA*h) - J."""
    n = N_STATES
    ih = 1.0 / h
    model_rhs(y, p, ftmp)
    for i in range(n):
        k[0, i] = ftmp[i]
    model_lu_solve(lu, k[0])
    for i in range(n):
        ytmp[i] = y[i] + A21 * k[0, i]
    model_rhs(ytmp, p, ftmp)
    for i in range(n):
        k[1, i] = ftmp[i] + C21 * ih * k[0, i]
    model_lu_solve(lu, k[1])
    for i in range(n):
        ytmp[i] = y[i] + A31 * k[0, i] + A32 * k[1, i]
    model_rhs(ytmp, p, ftmp)
    for i in range(n):
        k[2, i] = ftmp[i] + ih * (C31 * k[0, i] + C32 * k[1, i])
    model_lu_solve(lu, k[2])
    for i in range(n):
        ytmp[i] = y[i] + A41 * k[0, i] + A42 * k[1, i] + A43 * k[2, i]
    model_rhs(ytmp, p, ftmp)
    for i in range(n):
        k[3, i] = ftmp[i] + ih * (C41 * k[0, i] + C42 * k[1, i] + C43 * k[2, i])
    model_lu_solve(lu, k[3])
    for i in range(n):
        ytmp[i] = y[i] + A51 * k[0, i] + A52 * k[1, i] + A53 * k[2, i] + A54 * k[3, i]
    model_rhs(ytmp, p, ftmp)
    for i in range(n):
        k[4, i] = ftmp[i] + ih * (C51 * k[0, i] + C52 * k[1, i] + C53 * k[2, i] + C54 * k[3, i])
    model_lu_solve(lu, k[4])
    for i in range(n):
        ytmp[i] = ytmp[i] + k[4, i]
    model_rhs(ytmp, p, ftmp)
    for i in range(n):
        k[5, i] = ftmp[i] + ih * (
            C61 * k[0, i] + C62 * k[1, i] + C63 * k[2, i] + C64 * k[3, i] + C65 * k[4, i]
        )
    model_lu_solve(lu, k[5])
    for i in range(n):
        ynew[i] = ytmp[i] + k[5, i]


@numba.njit(**_INLINE)
def error_norm(y, ynew, k, atol, rtol):
    """RMS of the embedded error estimate (k6) scaled by atol + rtol*max(|y|, |ynew|)."""
    acc = 0.0
    for i in range(N_STATES):
        sc = atol[i] + rtol * max(abs(y[i]), abs(ynew[i]))
        e = k[5, i] / sc
        acc += e * e
    return math.sqrt(acc / N_STATES)


@numba.njit(**_INLINE)
def dense_coefficients(k, c3, c4):
    for i in range(N_STATES):
        c3[i] = D21 * k[0, i] + D22 * k[1, i] + D23 * k[2, i] + D24 * k[3, i] + D25 * k[4, i]
        c4[i] = D31 * k[0, i] + D32 * k[1, i] + D33 * k[2, i] + D34 * k[3, i] + D35 * k[4, i]


@numba.njit(**_INLINE)
def dense_state(theta, y0, y1, c3, c4, nonneg, out):
    """Rodas4 continuous extension at theta in [0, 1]; non-negative states are floored at 0."""
    s1 = 1.0 - theta
    for i in range(N_STATES):
        v = y0[i] * s1 + theta * (y1[i] + s1 * (c3[i] + theta * c4[i]))
        if nonneg[i] and v < 0.0:
            v = 0.0
        out[i] = v


@numba.njit(**_INLINE)
def quantity(q, y, p, obs):
    """Value of quantity q (a state index, or N_STATES + observable index)."""
    if q < N_STATES:
        return y[q]
    model_observe(y, p, obs)
    return obs[q - N_STATES]


@numba.njit(**_JIT)
def quantity_at(q, theta, y0, y1, c3, c4, nonneg, p, ybuf, obs):
    dense_state(theta, y0, y1, c3, c4, nonneg, ybuf)
    return quantity(q, ybuf, p, obs)


# ---- summaries ------------------------------------------------------------------------------
@numba.njit(**_INLINE)
def point_values(y, p, qidx, obs, vals):
    """vals[j] = quantity qidx[j]; the observables are computed once, and only if needed."""
    need = False
    for j in range(qidx.shape[0]):
        if qidx[j] >= N_STATES:
            need = True
    if need:
        model_observe(y, p, obs)
    for j in range(qidx.shape[0]):
        q = qidx[j]
        vals[j] = y[q] if q < N_STATES else obs[q - N_STATES]


@numba.njit(**_JIT)
def extremum_refine(q, sign, th_lo, th_hi, y0, y1, c3, c4, nonneg, p, ybuf, obs):
    """Golden-section search of sign*quantity on [th_lo, th_hi]; returns (theta, value)."""
    g = 0.6180339887498949
    a, b = th_lo, th_hi
    x1 = b - g * (b - a)
    x2 = a + g * (b - a)
    f1 = sign * quantity_at(q, x1, y0, y1, c3, c4, nonneg, p, ybuf, obs)
    f2 = sign * quantity_at(q, x2, y0, y1, c3, c4, nonneg, p, ybuf, obs)
    for _ in range(40):
        if f1 > f2:
            b, x2, f2 = x2, x1, f1
            x1 = b - g * (b - a)
            f1 = sign * quantity_at(q, x1, y0, y1, c3, c4, nonneg, p, ybuf, obs)
        else:
            a, x1, f1 = x1, x2, f2
            x2 = a + g * (b - a)
            f2 = sign * quantity_at(q, x2, y0, y1, c3, c4, nonneg, p, ybuf, obs)
    if f1 > f2:
        return x1, sign * f1
    return x2, sign * f2


@numba.njit(**_JIT)
def crossing_theta(q, thr, th_lo, th_hi, v_lo, y0, y1, c3, c4, nonneg, p, ybuf, obs):
    """Bisection for quantity == thr between th_lo (value v_lo) and th_hi."""
    lo_side = v_lo >= thr
    a, b = th_lo, th_hi
    for _ in range(50):
        m = 0.5 * (a + b)
        vm = quantity_at(q, m, y0, y1, c3, c4, nonneg, p, ybuf, obs)
        if (vm >= thr) == lo_side:
            a = m
        else:
            b = m
    return b


@numba.njit(**_INLINE)
def is_crossing(v0, v1, thr, direction):
    up = v0 < thr and v1 >= thr
    down = v0 > thr and v1 <= thr
    if direction > 0:
        return up
    if direction < 0:
        return down
    return up or down


@numba.njit(**_JIT)
def summaries_point(t, vals, su_kind, acc):
    """Account for the state at a single time point (start of run, after events)."""
    for j in range(su_kind.shape[0]):
        kind = su_kind[j]
        v = vals[j]
        if (kind == SU_MAX and v > acc[j, 0]) or (kind == SU_MIN and v < acc[j, 0]):
            acc[j, 0] = v
            acc[j, 1] = t


@numba.njit(**_JIT)
def summaries_jump(t, pre, post, su_kind, su_a, su_thr, su_dir, acc):
    """A discontinuity at time t (event): crossings happen at t; extrema see the new value."""
    for j in range(su_kind.shape[0]):
        kind = su_kind[j]
        if (kind == SU_FIRST_CROSS or kind == SU_LAST_CROSS) and t >= su_a[j]:
            if is_crossing(pre[j], post[j], su_thr[j], su_dir[j]):
                if kind == SU_LAST_CROSS or math.isnan(acc[j, 0]):
                    acc[j, 0] = t
    summaries_point(t, post, su_kind, acc)


@numba.njit(**_INLINE)
def summaries_step(t0, h, y0, y1, c3, c4, nonneg, p, su_kind, su_q, su_a, su_b, su_thr, su_dir,
                   acc, samples, ybuf, obs, continued):
    """Update every summary over the accepted step [t0, t0 + h] using the dense output.

    ``continued``: nothing changed since the previous accepted step ended, so its last sample
    is this step's first (saves one evaluation of the observables per step).
    """
    nsu = su_kind.shape[0]
    first = 0
    if continued:
        for j in range(nsu):
            samples[0, j] = samples[N_SAMPLES - 1, j]
        first = 1
    for k in range(first, N_SAMPLES):
        dense_state(k / (N_SAMPLES - 1.0), y0, y1, c3, c4, nonneg, ybuf)
        point_values(ybuf, p, su_q, obs, samples[k])
    t1 = t0 + h
    dth = 1.0 / (N_SAMPLES - 1.0)
    for j in range(nsu):
        kind = su_kind[j]
        q = su_q[j]
        if kind == SU_MAX or kind == SU_MIN:
            sign = 1.0 if kind == SU_MAX else -1.0
            best = 0
            for k in range(1, N_SAMPLES):
                if sign * samples[k, j] > sign * samples[best, j]:
                    best = k
            if sign * samples[best, j] > sign * acc[j, 0]:
                th, v = best * dth, samples[best, j]
                if 0 < best < N_SAMPLES - 1:
                    th, v = extremum_refine(q, sign, (best - 1) * dth, (best + 1) * dth,
                                            y0, y1, c3, c4, nonneg, p, ybuf, obs)
                acc[j, 0] = v
                acc[j, 1] = t0 + th * h
        elif kind == SU_AUC:
            lo = max(t0, su_a[j])
            hi = min(t1, su_b[j])
            if hi > lo:
                if lo == t0 and hi == t1:
                    acc[j, 0] += h / 6.0 * (samples[0, j] + 4.0 * samples[1, j] + samples[2, j])
                else:
                    fa = quantity_at(q, (lo - t0) / h, y0, y1, c3, c4, nonneg, p, ybuf, obs)
                    fm = quantity_at(q, (0.5 * (lo + hi) - t0) / h, y0, y1, c3, c4, nonneg, p, ybuf, obs)
                    fb = quantity_at(q, (hi - t0) / h, y0, y1, c3, c4, nonneg, p, ybuf, obs)
                    acc[j, 0] += (hi - lo) / 6.0 * (fa + 4.0 * fm + fb)
        elif kind == SU_FIRST_CROSS or kind == SU_LAST_CROSS:
            if t1 < su_a[j] or (kind == SU_FIRST_CROSS and not math.isnan(acc[j, 0])):
                continue
            for k in range(N_SAMPLES - 1):
                if is_crossing(samples[k, j], samples[k + 1, j], su_thr[j], su_dir[j]):
                    th = crossing_theta(q, su_thr[j], k * dth, (k + 1) * dth, samples[k, j],
                                        y0, y1, c3, c4, nonneg, p, ybuf, obs)
                    tc = t0 + th * h
                    if tc >= su_a[j]:
                        acc[j, 0] = tc
                        if kind == SU_FIRST_CROSS:
                            break
        elif kind == SU_VALUE_AT:
            if t0 <= su_a[j] < t1:
                acc[j, 0] = quantity_at(q, (su_a[j] - t0) / h, y0, y1, c3, c4, nonneg, p, ybuf, obs)


# ---- events and saved outputs ---------------------------------------------------------------
@numba.njit(**_INLINE)
def apply_due_events(t, y, p, ev_t, ev_kind, ev_idx, ev_val, ev_n, ptr):
    """Apply, in order, every pending event with time <= t; returns the new pointer."""
    while ptr < ev_n and ev_t[ptr] <= t:
        kind, idx, val = ev_kind[ptr], ev_idx[ptr], ev_val[ptr]
        if kind == EV_ADD:
            y[idx] += val
        elif kind == EV_SCALE:
            y[idx] *= val
        elif kind == EV_SET_STATE:
            y[idx] = val
        else:
            p[idx] = val
        ptr += 1
    return ptr


@numba.njit(**_INLINE)
def save_step(t0, h, y0, y1, c3, c4, nonneg, p, save_t, save_q, out, ptr, ybuf, obs):
    """Store outputs at save times s with t0 <= s < t0 + h (a time on an event is post-event)."""
    t1 = t0 + h
    while ptr < save_t.shape[0] and save_t[ptr] < t1:
        if save_t[ptr] >= t0:
            dense_state((save_t[ptr] - t0) / h, y0, y1, c3, c4, nonneg, ybuf)
            point_values(ybuf, p, save_q, obs, out[ptr])
        else:  # before the start of the simulation
            for j in range(save_q.shape[0]):
                out[ptr, j] = np.nan
        ptr += 1
    return ptr


@numba.njit(**_JIT)
def save_point(t, y, p, save_t, save_q, out, ptr, obs):
    """Store outputs at save times equal to t (end of the simulation)."""
    while ptr < save_t.shape[0] and save_t[ptr] <= t:
        if save_t[ptr] == t:
            point_values(y, p, save_q, obs, out[ptr])
        ptr += 1
    return ptr


# ---- one patient ----------------------------------------------------------------------------
@numba.njit(**_JIT)
def initial_step(y, p, atol, rtol, span, ftmp):
    """Hairer's first guess: 1 % of the ratio of the solution's and the derivative's norms."""
    model_rhs(y, p, ftmp)
    d0 = 0.0
    d1 = 0.0
    for i in range(N_STATES):
        sc = atol[i] + rtol * abs(y[i])
        d0 += (y[i] / sc) ** 2
        d1 += (ftmp[i] / sc) ** 2
    d0 = math.sqrt(d0 / N_STATES)
    d1 = math.sqrt(d1 / N_STATES)
    h = 1e-6 if (d0 < 1e-5 or d1 < 1e-5 or not math.isfinite(d1)) else 0.01 * d0 / d1
    return min(h, span)


@numba.njit(**_JIT)
def events_with_summaries(t, y, p, ev_t, ev_kind, ev_idx, ev_val, ev_n, ptr,
                          su_kind, su_q, su_a, su_thr, su_dir, acc, pre, post, obs):
    if ptr >= ev_n or ev_t[ptr] > t:
        return ptr
    if su_kind.shape[0] > 0:
        point_values(y, p, su_q, obs, pre)
    ptr = apply_due_events(t, y, p, ev_t, ev_kind, ev_idx, ev_val, ev_n, ptr)
    if su_kind.shape[0] > 0:
        point_values(y, p, su_q, obs, post)
        summaries_jump(t, pre, post, su_kind, su_a, su_thr, su_dir, acc)
    return ptr


@numba.njit(**_JIT)
def work_buffers(nsu):
    """Scratch arrays of one integration (allocated once per block of patients, not per patient:
    allocation inside a parallel loop contends between threads and dominated short segments)."""
    n = N_STATES
    return (np.empty((6, n)), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n),
            np.empty(max(N_LU, 1)), np.empty(max(N_OBS, 1)), np.empty((N_SAMPLES, nsu)), np.empty(nsu),
            np.empty(nsu))


@numba.njit(**_JIT)
def cure_due(t, y, p, cu, su_kind, su_q, su_a, su_thr, su_dir, acc, pre, post, obs):
    """Run the cure checks due at or before t (those before t were crossed with no clone small,
    so they change nothing); True if the state changed (a discontinuity for the summaries)."""
    cu_idx, cu_glob, cu_n, birth, n0, ext, cu_int, rng, table, cu_log = cu
    changed = False
    while cu_int[CU_NEXT] <= cu_n and cure_time(cu_int[CU_NEXT], cu_glob) <= t:
        if cure_time(cu_int[CU_NEXT], cu_glob) == t:
            if su_kind.shape[0] > 0:
                point_values(y, p, su_q, obs, pre)
            if cure_check(cu_int[CU_NEXT], y, cu_idx, cu_glob, cu_n, birth, n0, ext, cu_int, rng, table, cu_log):
                changed = True
                if su_kind.shape[0] > 0:
                    point_values(y, p, su_q, obs, post)
                    summaries_jump(t, pre, post, su_kind, su_a, su_thr, su_dir, acc)
        cu_int[CU_NEXT] += 1
    return changed


@numba.njit(**_JIT)
def advance_patient(t_end, y, p, state, ctrl, ev_t, ev_kind, ev_idx, ev_val, ev_n, iptr,
                    save_t, save_q, save_out, su_kind, su_q, su_a, su_b, su_thr, su_dir, acc,
                    atol, rtol, nonneg, hmax, max_steps, work, cu):
    """Integrate one patient from state[0] (its time) to t_end.

    state = [t, h_next, err_old, h_old]; ctrl = [event ptr, save ptr, status, steps, rejects];
    cu = the patient's stochastic-cure arrays (see _cure_template; no clones: none).
    """
    if ctrl[2] != ST_OK:
        return
    n = N_STATES
    k, ytmp, ftmp, ynew, c3, c4, ybuf, lu, obs, samples, pre, post = work
    cu_idx, cu_glob, cu_n, n0, cu_int = cu[0], cu[1], cu[2], cu[4], cu[6]
    cure = cu_idx.shape[0] > 0
    nsu = su_kind.shape[0]
    t = state[0]
    h = state[1]
    err_old = state[2]
    h_old = state[3]
    eptr = iptr[0]
    sptr = iptr[1]
    steps = ctrl[3]
    rejects = ctrl[4]
    status = ST_OK
    # cure checks due now come before the events at the same time
    if cure and cure_due(t, y, p, cu, su_kind, su_q, su_a, su_thr, su_dir, acc, pre, post, obs):
        err_old = -1.0
    new_ptr = events_with_summaries(t, y, p, ev_t, ev_kind, ev_idx, ev_val, ev_n, eptr,
                                    su_kind, su_q, su_a, su_thr, su_dir, acc, pre, post, obs)
    if new_ptr != eptr:
        err_old = -1.0
        eptr = new_ptr
    continued = False  # (summaries) whether the last accepted step's end is this step's start
    if h <= 0.0:
        h = initial_step(y, p, atol, rtol, max(t_end - t, 1e-12), ftmp)
    while t < t_end and status == ST_OK:
        t_stop = t_end
        if eptr < ev_n and ev_t[eptr] < t_stop:
            t_stop = ev_t[eptr]
        # while a clone is small every check day is landed on; otherwise steps cross them freely
        small = cure and cure_small(n0, cu_glob[3])
        if small and cu_int[CU_NEXT] <= cu_n:
            t_stop = min(t_stop, cure_time(cu_int[CU_NEXT], cu_glob))
        reject_last = False
        while t < t_stop:
            if steps + rejects >= max_steps:
                status = ST_MAX_STEPS
                break
            remaining = t_stop - t
            h = min(h, hmax)
            h_proposal = h
            last = False
            if h >= 0.9 * remaining:
                h = remaining
                last = True
            if not model_jac_lu(y, p, 1.0 / (GAMMA * h), lu):
                rejects += 1
                h *= 0.25
                if h < 1e-14 * max(1.0, abs(t)):
                    status = ST_NON_FINITE
                    break
                continue
            rodas_step(y, p, h, lu, k, ytmp, ftmp, ynew)
            err = error_norm(y, ynew, k, atol, rtol)
            if not math.isfinite(err):
                rejects += 1
                h *= 0.25
                reject_last = True
                if h < 1e-14 * max(1.0, abs(t)):
                    status = ST_NON_FINITE
                    break
                continue
            negative = False
            if err <= 1.0:
                for i in range(n):
                    if nonneg[i] and ynew[i] < 0.0:
                        if ynew[i] < -atol[i]:
                            negative = True
                        else:
                            ynew[i] = 0.0  # within tolerance of zero
            fac = max(1.0 / 6.0, min(5.0, err ** 0.25 / 0.9))
            if err <= 1.0 and not negative:
                if err_old > 0.0:
                    facpred = (h_old / h) * (err * err / err_old) ** 0.25 / 0.9
                    fac = max(fac, max(1.0 / 6.0, min(5.0, facpred)))
                dense_coefficients(k, c3, c4)
                if cure and not small:
                    t_hit = cure_scan(t, h, y, ynew, c3, c4, cu_idx, cu_glob, cu_n, cu_int[CU_NEXT])
                    if t_hit < t_stop:  # (a step that is not the last ends before t_stop)
                        t_stop = t_hit  # a clone turns small at this check day: land on it
                        continue
                h_new = h / fac
                if reject_last:
                    h_new = min(h_new, h)
                h_old = h
                err_old = max(0.01, err)
                if save_t.shape[0] > 0:
                    sptr = save_step(t, h, y, ynew, c3, c4, nonneg, p, save_t, save_q, save_out, sptr,
                                     ybuf, obs)
                if nsu > 0:
                    summaries_step(t, h, y, ynew, c3, c4, nonneg, p, su_kind, su_q, su_a, su_b, su_thr,
                                   su_dir, acc, samples, ybuf, obs, continued)
                    continued = True
                t = t_stop if last else t + h
                if cure and not small:  # checks crossed with no clone small change nothing
                    while cu_int[CU_NEXT] <= cu_n and cure_time(cu_int[CU_NEXT], cu_glob) < t:
                        cu_int[CU_NEXT] += 1
                for i in range(n):
                    y[i] = ynew[i]
                steps += 1
                reject_last = False
                h = max(h_new, h_proposal) if last else h_new
            else:
                rejects += 1
                reject_last = True
                h = h / fac if not negative else 0.5 * h
                if h < 1e-14 * max(1.0, abs(t)):
                    status = ST_STEP_TOO_SMALL
                    break
        if status != ST_OK:
            break
        if cure and cure_due(t, y, p, cu, su_kind, su_q, su_a, su_thr, su_dir, acc, pre, post, obs):
            err_old = -1.0
            continued = False
        new_ptr = events_with_summaries(t, y, p, ev_t, ev_kind, ev_idx, ev_val, ev_n, eptr,
                                        su_kind, su_q, su_a, su_thr, su_dir, acc, pre, post, obs)
        if new_ptr != eptr:
            err_old = -1.0  # a discontinuity: the controller's history no longer applies
            continued = False
            eptr = new_ptr
    state[0] = t
    state[1] = h
    state[2] = err_old
    state[3] = h_old
    iptr[0] = eptr
    iptr[1] = sptr
    ctrl[2] = status
    ctrl[3] = steps
    ctrl[4] = rejects


# ---- batch entry points -----------------------------------------------------------------------
@numba.njit(parallel=True, **_JIT)
def advance_batch(t_end, y, p, state, ctrl, ev_t, ev_kind, ev_idx, ev_val, ev_n, iptr,
                  save_t, save_q, save_out, su_kind, su_q, su_a, su_b, su_thr, su_dir, acc,
                  atol, rtol, nonneg, hmax, max_steps, blocks, cu_idx, cu_glob, cu_n, cu_birth, cu_n0, cu_ext,
                  cu_int, cu_rng, cu_table, cu_log):
    """Advance every patient (row) to t_end, in parallel over ``blocks`` interleaved blocks of patients.

    The cu_* arrays hold the stochastic cure (clone state indices, [t0, every, horizon, threshold],
    number of checks, then per patient: birth rates, counts at the last check, extinction days,
    [next check, uniforms used, log entries], PCG64 state, an optional uniform table, a log).
    """
    n_pat = y.shape[0]
    for b in numba.prange(blocks):
        work = work_buffers(su_kind.shape[0])
        for i in range(b, n_pat, blocks):
            cu = (cu_idx, cu_glob, cu_n, cu_birth[i], cu_n0[i], cu_ext[i], cu_int[i], cu_rng[i], cu_table[i],
                  cu_log[i])
            advance_patient(t_end, y[i], p[i], state[i], ctrl[i], ev_t[i], ev_kind[i], ev_idx[i], ev_val[i],
                            ev_n[i], iptr[i], save_t, save_q, save_out[i], su_kind, su_q, su_a, su_b, su_thr,
                            su_dir, acc[i], atol, rtol, nonneg, hmax, max_steps, work, cu)


@numba.njit(**_JIT)
def start_batch(y, p, state, ev_t, ev_kind, ev_idx, ev_val, ev_n, iptr, su_kind, su_q, su_a, su_thr,
                su_dir, acc):
    """Apply events due at each patient's start time and seed the summaries with that state."""
    nsu = su_kind.shape[0]
    obs = np.empty(max(N_OBS, 1))
    pre = np.empty(nsu)
    post = np.empty(nsu)
    for i in range(y.shape[0]):
        point_values(y[i], p[i], su_q, obs, pre)
        summaries_point(state[i, 0], pre, su_kind, acc[i])
        iptr[i, 0] = events_with_summaries(state[i, 0], y[i], p[i], ev_t[i], ev_kind[i], ev_idx[i], ev_val[i],
                                           ev_n[i], iptr[i, 0], su_kind, su_q, su_a, su_thr, su_dir, acc[i],
                                           pre, post, obs)


@numba.njit(**_JIT)
def finish_batch(y, p, state, ctrl, iptr, save_t, save_q, save_out, su_kind, su_q, su_a, acc):
    """Fill outputs and value-at summaries that fall exactly on each patient's final time.

    Save times not reached (the patient failed, or they lie beyond its time) are set to NaN.
    """
    obs = np.empty(max(N_OBS, 1))
    for i in range(y.shape[0]):
        t = state[i, 0]
        # a local pointer: a later advance() may still overwrite these (e.g. post-event values at t)
        ptr = iptr[i, 1]
        if ctrl[i, 2] == ST_OK:
            ptr = save_point(t, y[i], p[i], save_t, save_q, save_out[i], ptr, obs)
        for k in range(ptr, save_t.shape[0]):
            for j in range(save_q.shape[0]):
                save_out[i, k, j] = np.nan
        if ctrl[i, 2] != ST_OK:
            continue
        for j in range(su_kind.shape[0]):
            if su_kind[j] == SU_VALUE_AT and su_a[j] == t:
                acc[i, j, 0] = quantity(su_q[j], y[i], p[i], obs)


@numba.njit(parallel=True, **_JIT)
def initial_batch(p, y):
    """Initial state of every patient from its parameters."""
    for i in numba.prange(p.shape[0]):
        model_initial(p[i], y[i])


@numba.njit(parallel=True, **_JIT)
def observe_batch(y, p, out):
    """Observables of every patient at its current state."""
    for i in numba.prange(y.shape[0]):
        model_observe(y[i], p[i], out[i])


@numba.njit(**_JIT)
def rhs_one(y, p, out):
    model_rhs(y, p, out)
