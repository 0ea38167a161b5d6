"""Opening-schedule speed and quality for Shanghai's relay stations on a Tuesday at a budget of
1,000 added hours: our lazy greedy (with and without its swap/insert polish) beside the naive
greedy (every chain's best move recomputed at every step, timed on its first moves and scaled)
and the floor (one pass over every block's gain: what any greedy must at least do once); then
the exact MIP under a time limit, and the greedy's ratio to it.

Run: .venv/bin/python bench/schedule.py  (about two minutes)
"""

from __future__ import annotations

import time

import numpy as np
from timing import timed  # bench/ is on sys.path when run as a script

import geo.analysis.schedule as sched
from geo.analysis.coverage import compute_coverage, day_cover, day_presence, usable_rows
from geo.atlas import Atlas
from geo.questions import CoverageSpec

BUDGET = 1000
NAIVE_MOVES = 15
EXACT_SECONDS = 60.0


def problem(atlas: Atlas, spec: CoverageSpec) -> sched.OpeningProblem:
    """Shanghai relay, Tuesday, as arrays (the part the API caches)."""
    day, cover = day_cover(atlas, spec, 1)
    reach = compute_coverage(atlas, spec)
    rows = usable_rows(atlas.index, spec.type, None)
    open_ = np.column_stack([day.masks[j][rows] for j in day.of_hour])
    sets = reach.sets_from(atlas.index.lon[rows], atlas.index.lat[rows],
                           np.arange(len(atlas.grid)))
    return sched.OpeningProblem(day_presence(atlas, ("outdoor",), 1), cover, open_, sets)


def naive_seconds_per_move(p: sched.OpeningProblem) -> float:
    """A plain greedy: every chain's best move recomputed before each pick."""
    cov, taken, left = p.cover.copy(), np.zeros(len(p.chains), np.int64), BUDGET
    t0 = time.perf_counter()
    for _ in range(NAIVE_MOVES):
        best = max(((p._best(i, int(taken[i]), cov, left), i) for i in range(len(p.chains))),
                   key=lambda b: b[0][0])
        (_, n, _, cost), i = best
        p._take(i, int(taken[i]), n, cov)
        taken[i] += n
        left -= cost
    return (time.perf_counter() - t0) / NAIVE_MOVES


def main() -> None:
    atlas = Atlas.load()
    spec = CoverageSpec("relay", 1000)
    p = problem(atlas, spec)
    blocks = sum(len(b) for b in p.chains.blocks)
    t_ours, ours = timed(lambda: p.solve(BUDGET), repeat=1)
    sched.POLISH_SECONDS = 0.0
    t_plain, plain = timed(lambda: p.solve(BUDGET), repeat=1)
    sched.POLISH_SECONDS = 2.0
    moves = len(ours.curve) - 1
    t_naive = naive_seconds_per_move(p) * moves
    t_floor, _ = timed(lambda: [p.block_gain(i, b, p.cover) for i in range(len(p.chains))
                                for b in range(len(p.chains.blocks[i]))], repeat=1)
    print(f"relay, Tuesday, budget {BUDGET:,} h: {len(p.chains):,} chains, {blocks:,} blocks; "
          f"covered worker-hours {int(ours.before.sum()):,} -> {int(ours.after.sum()):,}")
    print(f"{'greedy + polish':24s} {t_ours:6.2f} s  gain {ours.gain:,}")
    print(f"{'greedy alone':24s} {t_plain:6.2f} s  gain {plain.gain:,}")
    print(f"{'naive greedy':24s} {t_naive:6.1f} s  ({t_naive / t_plain:.0f}x greedy alone; "
          f"{NAIVE_MOVES} moves timed, scaled to {moves})")
    print(f"{'floor: every block once':24s} {t_floor:6.2f} s  (greedy alone "
          f"{t_plain / t_floor:.1f}x floor)")
    t0 = time.perf_counter()
    exact = p.solve(BUDGET, exact=True, time_limit=EXACT_SECONDS)
    t_exact = time.perf_counter() - t0
    s = exact.solver
    print(f"{'exact MIP (HiGHS)':24s} {t_exact:6.1f} s  gain {exact.gain:,}  optimal "
          f"{s['optimal']}  gap {s['gap']}  (limit {EXACT_SECONDS:g} s)")
    bound = "the MIP's best" if not s["optimal"] else "the optimum"
    print(f"greedy + polish / {bound}: {ours.gain / exact.gain:.4f}")
    whole = p.around_the_clock(BUDGET)
    print(f"keep open 24/7 for the same {BUDGET:,} h: {len(whole['stations'])} stations, "
          f"{whole['hours']} h, gain {whole['gain_worker_hours']:,} "
          f"({whole['gain_worker_hours'] / ours.gain:.0%} of the schedule's)")


if __name__ == "__main__":
    main()
