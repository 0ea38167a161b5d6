"""Opening schedules: which stations should open earlier or close later, and by how many hours,
to cover the most worker-hours over a day for a budget of extra station-hours.

A station can gain hours only next to its day's opening: blocks of `step` hours before its
first open hour (going back towards `earliest`) and after its last (going on towards
`latest`), each block needing the one nearer the opening. A worker-hour (cell, hour) is covered
when a station open at that hour reaches the cell, so the worker-hours a block wins are those
of its station's cells at its hours that nothing covers yet: coverage over (cell, hour) pairs,
a budgeted maximal covering. Two solvers: a lazy greedy on the gain per added hour, and an
exact MIP in HiGHS (z continuous: with y binary it is integral at the optimum).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from scipy import sparse

from geo.analysis.coverage import (
    CoverageResult,
    compute_coverage,
    day_cover,
    day_presence,
    usable_mask,
    usable_rows,
)
from geo.analysis.siting import _quiet_highs
from geo.atlas import Atlas
from geo.errors import QueryError
from geo.hours import extend_day
from geo.index.coverage_sets import CoverageSets
from geo.questions import CoverageSpec
from geo.schema import SERVES

MAX_BUDGET_HOURS = 20_000
POLISH_SECONDS = 2.0  # swap local search after the greedy, at most this long


@dataclass(frozen=True)
class Chains:
    """Each station's blocks, in the order they must be taken (chain = station and side)."""

    station: np.ndarray  # per chain: the station's row
    side: np.ndarray  # per chain: 0 earlier, 1 later
    blocks: list[list[np.ndarray]]  # per chain: the hours of each block, nearest first

    def __len__(self) -> int:
        return len(self.blocks)


def extension_chains(open_: np.ndarray, earliest: int, latest: int, step: int) -> Chains:
    """The blocks each station open that day could add: whole steps of `step` hours within
    [earliest, latest) next to its first and last open hour (HH:00)."""
    station, side, blocks = [], [], []
    for s in np.flatnonzero(open_.any(axis=1)):
        hours = np.flatnonzero(open_[s])
        first, last = int(hours[0]), int(hours[-1])
        for k, free in ((0, np.arange(first - 1, earliest - 1, -1)),
                        (1, np.arange(last + 1, latest))):
            n = len(free) // step
            if n:
                station.append(s)
                side.append(k)
                blocks.append([free[i * step:(i + 1) * step] for i in range(n)])
    return Chains(np.array(station, np.int64), np.array(side, np.int64), blocks)


def whole_day_chains(open_: np.ndarray) -> Chains:
    """One block per station: every hour it is closed (keeping it open around the clock)."""
    rows = np.flatnonzero(~open_.all(axis=1))
    return Chains(rows, np.full(len(rows), 2), [[np.flatnonzero(~open_[s])] for s in rows])


@dataclass(frozen=True)
class Schedule:
    """Blocks taken per chain, what they win, and the solver's report."""

    taken: np.ndarray  # per chain: how many blocks
    added: np.ndarray  # (stations, 24): hours added
    gain: int  # worker-hours won over the day
    station_gain: np.ndarray  # per station: worker-hours its added hours won
    present_by_hour: np.ndarray  # (24,) workers present at each hour
    before: np.ndarray  # (24,) worker-hours covered at each hour, today
    after: np.ndarray  # (24,) with the added hours
    curve: list[dict]  # budget_hours -> covered_worker_hours (greedy, nested)
    solver: dict


class OpeningProblem:
    """One weekday's budgeted extension problem over arrays: workers present (cells, 24),
    cells covered today (cells, 24), stations' open hours (stations, 24) and reach."""

    def __init__(self, present: np.ndarray, cover: np.ndarray, open_: np.ndarray,
                 sets: CoverageSets, earliest: int = 0, latest: int = 24, step: int = 1,
                 chains: Chains | None = None):
        self.present, self.cover, self.open = present, cover, open_
        self.sets, self.earliest, self.latest = sets, earliest, latest
        self.chains = chains or extension_chains(open_, earliest, latest, step)

    def around_the_clock(self, budget: int) -> dict:
        """Beside a schedule: the same budget spent keeping whole stations open 24/7."""
        whole = OpeningProblem(self.present, self.cover, self.open, self.sets,
                               chains=whole_day_chains(self.open))
        taken, moves = whole.greedy(budget)
        rows = whole.chains.station[taken > 0]
        return {"stations": rows, "hours": int(sum(c for _, _, c in moves)),
                "gain_worker_hours": int(sum(g for _, g, _ in moves))}

    def block_gain(self, chain: int, block: int, cov: np.ndarray) -> int:
        """Worker-hours a block would win over the coverage `cov`."""
        sub = self._sub(chain, block)
        return int(self.present[sub][~cov[sub]].sum())

    def _best(self, chain: int, taken: int, cov: np.ndarray, left: int
              ) -> tuple[float, int, int, int]:
        """The best next move on a chain: (gain per hour, blocks, gain, hours)."""
        best = (0.0, 0, 0, 0)
        gain = cost = 0
        for b in range(taken, len(self.chains.blocks[chain])):
            cost += len(self.chains.blocks[chain][b])
            if cost > left:
                break
            gain += self.block_gain(chain, b, cov)
            if gain > 0 and gain / cost > best[0] + 1e-12:
                best = (gain / cost, b - taken + 1, gain, cost)
        return best

    def _take(self, chain: int, first: int, n: int, cov: np.ndarray) -> None:
        """Mark a chain's blocks first..first+n-1 as open in `cov`."""
        for b in range(first, first + n):
            cov[self._sub(chain, b)] = True

    def greedy(self, budget: int, taken: np.ndarray | None = None,
               cov: np.ndarray | None = None, frozen: int = -1
               ) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
        """Lazy greedy on the gain per added hour, from nothing added (or from `taken` with
        coverage `cov`): (blocks per chain, the moves in order as (chain, gain, hours)).
        Gains only fall as coverage grows, so a stale bound that still tops the heap after
        recomputing is the true best. Chain `frozen` takes nothing."""
        cov = self.cover.copy() if cov is None else cov
        taken = np.zeros(len(self.chains), np.int64) if taken is None else taken
        heap = [(-self._best(i, int(taken[i]), cov, budget)[0], i)
                for i in range(len(self.chains)) if i != frozen]
        heap = [h for h in heap if h[0] < 0]
        heapq.heapify(heap)
        left, moves = budget, []
        while heap and left > 0:
            _, i = heapq.heappop(heap)
            ratio, n, gain, cost = self._best(i, int(taken[i]), cov, left)
            if n == 0:
                continue
            if heap and ratio < -heap[0][0] - 1e-12:
                heapq.heappush(heap, (-ratio, i))
                continue
            self._take(i, int(taken[i]), n, cov)
            taken[i] += n
            left -= cost
            moves.append((i, gain, cost))
            nxt = self._best(i, int(taken[i]), cov, left)
            if nxt[1]:
                heapq.heappush(heap, (-nxt[0], i))
        return taken, moves

    def _sub(self, chain: int, block: int):
        """Index of a block's (cells, hours) in the (cells, 24) tables."""
        cells = self.sets.row(int(self.chains.station[chain]))
        return np.ix_(cells, self.chains.blocks[chain][block])

    def cost(self, taken: np.ndarray) -> int:
        """Hours the taken blocks add."""
        return int(sum(len(self.chains.blocks[i][b]) for i in np.flatnonzero(taken)
                       for b in range(int(taken[i]))))

    def _counts(self, taken: np.ndarray) -> np.ndarray:
        """(cells, 24) how many added blocks reach each pair; today's coverage counts many."""
        count = np.where(self.cover, 1 << 20, 0).astype(np.int64)
        for i in np.flatnonzero(taken):
            for b in range(int(taken[i])):
                count[self._sub(int(i), b)] += 1
        return count

    def polish(self, taken: np.ndarray, budget: int, seconds: float) -> np.ndarray:
        """Swap local search: give back a chain's outermost block, or all its blocks, and
        refill the freed hours greedily elsewhere; keep the change when it wins more than what
        was given back. Stops when no swap helps or after `seconds`."""
        taken = taken.copy()
        count = self._counts(taken)
        stop = time.perf_counter() + seconds
        improved = True
        while improved and time.perf_counter() < stop:
            improved = False
            for i, back in [(i, k) for i in np.flatnonzero(taken) for k in (1, 0)]:
                n = int(taken[i]) if back == 0 else min(back, int(taken[i]))
                if n == 0 or time.perf_counter() > stop:
                    continue
                if self._swap(int(i), n, taken, count, budget):
                    improved = True
            for j in range(len(self.chains)):
                if time.perf_counter() > stop:
                    break
                for n in range(1, len(self.chains.blocks[j]) - int(taken[j]) + 1):
                    if self._insert(j, n, taken, count, budget):
                        improved = True
                        break
        return taken

    def coverage(self, taken: np.ndarray) -> np.ndarray:
        """(cells, 24) covered with the chains' first `taken` blocks open."""
        return self._counts(taken) > 0

    def added(self, taken: np.ndarray) -> np.ndarray:
        """(stations, 24) hours added by the taken blocks."""
        out = np.zeros_like(self.open)
        for i in np.flatnonzero(taken):
            for b in range(int(taken[i])):
                out[self.chains.station[i], self.chains.blocks[i][b]] = True
        return out

    def exact(self, budget: int, time_limit: float, start: np.ndarray
              ) -> tuple[np.ndarray, bool, float | None]:
        """The budgeted covering as a MIP in HiGHS, warm-started from `start`: (blocks per
        chain, optimal, gap). A solve stopped by the time limit is never optimal."""
        import highspy

        ch = self.chains
        blk_chain = np.array([i for i in range(len(ch)) for _ in ch.blocks[i]], np.int64)
        blk_depth = np.array([b for i in range(len(ch)) for b in range(len(ch.blocks[i]))],
                             np.int64)
        cost = np.array([len(h) for i in range(len(ch)) for h in ch.blocks[i]], float)
        keys, owner = [], []
        for j, (i, b) in enumerate(zip(blk_chain, blk_depth, strict=True)):
            cells = self.sets.row(int(ch.station[i]))
            hours = ch.blocks[i][b]
            sub = np.ix_(cells, hours)
            want = (self.present[sub] > 0) & ~self.cover[sub]
            c, h = np.nonzero(want)
            keys.append(cells[c] * 24 + hours[h])
            owner.append(np.full(len(c), j))
        keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        owner = np.concatenate(owner) if owner else np.zeros(0, np.int64)
        pair, z_of = np.unique(keys, return_inverse=True)
        n_y, n_z = len(cost), len(pair)
        prev = np.flatnonzero(blk_depth > 0)  # y_b - y_(b-1) <= 0
        n_c = len(prev)
        rows = np.concatenate([z_of, np.arange(n_z), n_z + np.arange(n_c),
                               n_z + np.arange(n_c), np.full(n_y, n_z + n_c)])
        cols = np.concatenate([owner, n_y + np.arange(n_z), prev, prev - 1, np.arange(n_y)])
        vals = np.concatenate([-np.ones(len(owner)), np.ones(n_z), np.ones(n_c),
                               -np.ones(n_c), cost])
        a = sparse.csc_matrix((vals, (rows, cols)), shape=(n_z + n_c + 1, n_y + n_z))
        a.sum_duplicates()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_y + n_z, n_z + n_c + 1
        lp.sense_ = highspy.ObjSense.kMaximize
        weight = self.present.reshape(-1)[pair].astype(float)
        lp.col_cost_ = np.concatenate([np.zeros(n_y), weight])
        lp.col_lower_ = np.zeros(n_y + n_z)
        lp.col_upper_ = np.ones(n_y + n_z)
        lp.row_lower_ = np.full(n_z + n_c + 1, -highspy.kHighsInf)
        lp.row_upper_ = np.concatenate([np.zeros(n_z + n_c), [float(budget)]])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        lp.integrality_ = ([highspy.HighsVarType.kInteger] * n_y
                           + [highspy.HighsVarType.kContinuous] * n_z)
        h = _quiet_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        h.passModel(lp)
        y0 = (blk_depth < start[blk_chain]).astype(float)
        z0 = np.zeros(n_z)
        z0[z_of[y0[owner] > 0]] = 1.0
        sol = highspy.HighsSolution()
        sol.col_value = np.concatenate([y0, z0]).tolist()
        sol.value_valid = True
        h.setSolution(sol)
        if h.run() == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS could not run the schedule model")
        optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        if not h.getInfo().primal_solution_status:
            return start, False, None
        y = np.asarray(h.getSolution().col_value[:n_y]) > 0.5
        taken = np.bincount(blk_chain[y], minlength=len(ch)).astype(np.int64)
        info = h.getInfo()
        best, bound = float(info.objective_function_value), float(info.mip_dual_bound)
        gap = (bound - best) / max(abs(best), 1.0) if np.isfinite(bound) else None
        return taken, optimal, (0.0 if optimal else gap)

    def solve(self, budget: int, exact: bool = False, time_limit: float = 10.0) -> Schedule:
        """The schedule for a budget of added station-hours, with its curve and report."""
        if not 1 <= budget <= MAX_BUDGET_HOURS:
            raise ValueError(f"budget_hours must be between 1 and {MAX_BUDGET_HOURS:,}")
        t0 = time.perf_counter()
        taken, moves = self.greedy(budget)
        taken = self.polish(taken, budget, POLISH_SECONDS)
        method, optimal, gap = "greedy", False, None
        if exact:
            got, optimal, gap = self.exact(budget, time_limit, taken)
            if self.worker_hours(got) >= self.worker_hours(taken):
                taken, method = got, "exact"
            else:
                optimal, method = False, "greedy (exact found no better within the limit)"
        cov = self.coverage(taken)
        before = np.where(self.cover, self.present, 0).sum(axis=0)
        after = np.where(cov, self.present, 0).sum(axis=0)
        added = self.added(taken)
        return Schedule(taken, added, int(after.sum() - before.sum()),
                        self.station_gains(taken), self.present.sum(axis=0), before, after,
                        self._curve(moves, int(before.sum())),
                        {"method": method, "optimal": bool(optimal), "gap": gap,
                         "seconds": round(time.perf_counter() - t0, 3),
                         "blocks": int(sum(len(b) for b in self.chains.blocks)),
                         "curve_method": "greedy"})

    def _swap(self, i: int, n: int, taken: np.ndarray, count: np.ndarray, budget: int) -> bool:
        """Try giving back chain i's outer n blocks for a greedy refill elsewhere; `taken` and
        `count` change in place only when the refill wins more."""
        subs = [self._sub(i, b) for b in range(int(taken[i]) - n, int(taken[i]))]
        for sub in subs:
            count[sub] -= 1
        lost = np.zeros(count.shape, bool)
        for sub in subs:
            lost[sub] = count[sub] == 0
        loss = int(self.present[lost].sum())
        taken[i] -= n
        trial, moves = self.greedy(budget - self.cost(taken), taken.copy(), count > 0,
                                   frozen=i)
        if sum(g for _, g, _ in moves) > loss:
            for j in np.flatnonzero(trial != taken):
                for b in range(int(taken[j]), int(trial[j])):
                    count[self._sub(int(j), b)] += 1
            taken[:] = trial
            return True
        for sub in subs:
            count[sub] += 1
        taken[i] += n
        return False

    def _insert(self, j: int, n: int, taken: np.ndarray, count: np.ndarray, budget: int
                ) -> bool:
        """Try adding chain j's next n blocks, paying for them with other chains' outer blocks
        (least loss per hour first); in place only when the trade wins."""
        subs = [self._sub(j, b) for b in range(int(taken[j]), int(taken[j]) + n)]
        gain_at = np.zeros(count.shape, bool)
        for sub in subs:
            gain_at[sub] = count[sub] == 0
        gain = int(self.present[gain_at].sum())
        if gain == 0:
            return False
        trial, trial_count = taken.copy(), count.copy()
        for sub in subs:
            trial_count[sub] += 1
        trial[j] += n
        loss = 0
        while self.cost(trial) > budget:
            best = None
            for i in np.flatnonzero(trial):
                if i == j:
                    continue
                sub = self._sub(int(i), int(trial[i]) - 1)
                lost = int(self.present[sub][trial_count[sub] == 1].sum())
                per = lost / len(self.chains.blocks[i][int(trial[i]) - 1])
                if best is None or per < best[0]:
                    best = (per, int(i), lost, sub)
            if best is None:
                return False
            _, i, lost, sub = best
            trial_count[sub] -= 1
            trial[i] -= 1
            loss += lost
            if loss >= gain:
                return False
        taken[:] = trial
        count[:] = trial_count
        return True

    def worker_hours(self, taken: np.ndarray) -> int:
        """Covered worker-hours over the day with these blocks taken."""
        return int(np.where(self.coverage(taken), self.present, 0).sum())

    def station_gains(self, taken: np.ndarray) -> np.ndarray:
        """Each station's worker-hours won that no other added hour also wins (what closing
        its new hours again would lose): they add up to at most the schedule's gain."""
        added = self.added(taken)
        count = np.zeros(self.cover.shape, np.int64)  # added station-hours reaching each pair
        for s in np.flatnonzero(added.any(axis=1)):
            count[np.ix_(self.sets.row(int(s)), np.flatnonzero(added[s]))] += 1
        gains = np.zeros(len(self.open), np.int64)
        for s in np.flatnonzero(added.any(axis=1)):
            sub = np.ix_(self.sets.row(int(s)), np.flatnonzero(added[s]))
            only = ~self.cover[sub] & (count[sub] == 1)
            gains[s] = int(self.present[sub][only].sum())
        return gains

    def _curve(self, moves: list[tuple[int, int, int]], base: int) -> list[dict]:
        """Covered worker-hours after each greedy move, against the hours spent so far."""
        spent, got = 0, base
        curve = [{"budget_hours": 0, "covered_worker_hours": base}]
        for _, gain, cost in moves:
            spent, got = spent + cost, got + gain
            curve.append({"budget_hours": spent, "covered_worker_hours": got})
        return curve


@dataclass(frozen=True)
class DaySchedule:
    """A schedule on the stations of a dataset: new hours per station and the answer."""

    schedule: Schedule
    stations: pd.DataFrame  # station_id, name, hours_before, hours_after, added_hours, gain
    around_the_clock: dict
    weekday: int
    budget: int

    def answer(self) -> dict:
        """The answer as the API and `stations schedule --json` give it."""
        s = self.schedule
        before = int(s.before.sum())
        stations = [{k: v for k, v in row.items()} for row in self.stations.to_dict("records")]
        return {"weekday": self.weekday, "budget_hours": self.budget,
                "added_hours": int(self.stations["added_hours"].sum()),
                "worker_hours": int(s.present_by_hour.sum()),
                "covered_worker_hours": {"before": before, "after": before + s.gain},
                "gain_worker_hours": s.gain, "stations": stations, "curve": s.curve,
                "before": self.curve_rows(s.before), "after": self.curve_rows(s.after),
                "solver": s.solver, "keep_open_24_7": self.around_the_clock}

    def curve_rows(self, covered: np.ndarray) -> list[dict]:
        """A 24-hour curve of the workers present and covered."""
        present = self.schedule.present_by_hour
        return [{"hour": h, "workers_present": int(p), "covered": int(c),
                 "share_covered": round(int(c) / int(p), 4) if p else None}
                for h, (p, c) in enumerate(zip(present, covered, strict=True))]

    def applied_to(self, stations: pd.DataFrame) -> pd.DataFrame:
        """The station table with the new hours in place (for an export to re-import)."""
        new = self.new_hours
        return stations.assign(opening_hours=[new.get(i, h) for i, h in zip(
            stations["id"], stations["opening_hours"], strict=True)])

    @property
    def new_hours(self) -> dict[str, str]:
        """Station id -> its new opening hours, for a scenario or an import."""
        return dict(zip(self.stations["station_id"], self.stations["hours_after"],
                        strict=True))


def day_schedule(atlas: Atlas, spec: CoverageSpec, weekday: int, budget: int, *,
                 earliest: int = 0, latest: int = 24, step: int = 1, exact: bool = False,
                 time_limit: float = 10.0, cover: tuple | None = None,
                 reach: CoverageResult | None = None) -> DaySchedule:
    """Which of the type's stations should open earlier or later on a weekday, for a budget of
    added hours; `cover` (day_cover's answer) and `reach` (the all-day coverage, whose
    distances say which cells a station reaches) may come from a cache."""
    if not 0 <= earliest < latest <= 24:
        raise QueryError("earliest", "earliest must come before latest, within 00:00-24:00")
    if not 1 <= step <= 12:
        raise QueryError("step", "step must be 1 to 12 hours")
    if not 1 <= budget <= MAX_BUDGET_HOURS:
        raise QueryError("budget_hours", f"budget_hours must be between 1 and "
                                         f"{MAX_BUDGET_HOURS:,}, got {budget}")
    day, covered = cover if cover is not None else day_cover(atlas, spec, weekday)
    reach = reach if reach is not None else compute_coverage(atlas, spec)
    rows = usable_rows(atlas.index, spec.type, usable_mask(atlas.index, spec))
    open_ = np.column_stack([day.masks[j][rows] for j in day.of_hour])
    sets = reach.sets_from(atlas.index.lon[rows], atlas.index.lat[rows],
                           np.arange(len(atlas.grid)))
    problem = OpeningProblem(day_presence(atlas, SERVES[spec.type], weekday), covered, open_,
                             sets, earliest, latest, step)
    sched = problem.solve(budget, exact, time_limit)
    table = _station_table(atlas, rows, open_, sched, day.at[0])
    whole = problem.around_the_clock(budget)
    whole["stations"] = atlas.stations["id"].to_numpy(object)[rows[whole["stations"]]].tolist()
    return DaySchedule(sched, table, whole, weekday, budget)


def _station_table(atlas: Atlas, rows: np.ndarray, open_: np.ndarray, sched: Schedule,
                   day: datetime) -> pd.DataFrame:
    """One row per station given hours: before and after in OSM syntax, hours and gain."""
    changed = np.flatnonzero(sched.added.any(axis=1))
    st = atlas.stations.iloc[rows[changed]]
    out = []
    for s, (_, row) in zip(changed, st.iterrows(), strict=True):
        now, add = np.flatnonzero(open_[s]), np.flatnonzero(sched.added[s])
        start = int(add[0]) if add[0] < now[0] else None
        end = int(add[-1]) + 1 if add[-1] > now[-1] else None
        out.append({"station_id": row["id"], "name": row["name"],
                    "hours_before": row["opening_hours"],
                    "hours_after": extend_day(row["opening_hours"], day, start, end),
                    "added_hours": len(add), "gain_worker_hours": int(sched.station_gain[s]),
                    "lon": round(float(row["lon"]), 6), "lat": round(float(row["lat"]), 6)})
    cols = ["station_id", "name", "hours_before", "hours_after", "added_hours",
            "gain_worker_hours", "lon", "lat"]
    return pd.DataFrame(out, columns=cols).sort_values(
        ["gain_worker_hours", "station_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
