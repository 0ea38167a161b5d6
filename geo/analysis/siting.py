"""Where to add stations: maximal covering (MCLP) on sparse coverage sets.

A coverage set lists, for one candidate site, the demand cells within the service distance of
it. Sets come from a KD-tree range search on Earth-centred coordinates (or from bounded street
searches), so a city's 100,000 cells x 100,000 candidates never becomes a dense matrix.

`MaximalCovering` solves "choose k sites to cover the most uncovered workers" two ways, as
spopt's MCLP does, but sparse: a lazy greedy for any size (each pick is the site with the
largest gain given the earlier picks; gains only shrink, so a stale heap entry is re-scored only
when it reaches the top), polished by drop-add swaps and, where cheap, restarted from other
first sites; and an exact MIP solved by HiGHS under a time limit, which reports honestly
whether it proved optimality and its gap.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import sparse

from geo.index.coverage_sets import CoverageSets, straight_sets

EXACT_TIME_LIMIT_S = 60.0
# Restarts of greedy from other first sites, bounded by work (coverage-set entries x k x
# starts): 50 for a district and k <= 10, one for all of Shanghai at k = 50.
MULTISTART_WORK = 20_000_000
MAX_STARTS = 50


@dataclass(frozen=True)
class Solution:
    """Chosen sites in order of marginal gain, and how they were found."""

    picks: Picks
    method: str  # "greedy" or "exact"
    optimal: bool  # proven optimal (greedy: only when trivially so)
    gap: float | None  # relative MIP gap; None when unknown
    seconds: float

    @property
    def sites(self) -> np.ndarray:
        """Candidate indices, in order of marginal gain."""
        return self.picks.sites

    @property
    def gains(self) -> np.ndarray:
        """Workers newly covered by each site given the ones before it."""
        return self.picks.gains

    @property
    def assign(self) -> np.ndarray:
        """Per demand point: position in `sites` of the site covering it first, or -1."""
        return self.picks.assign

    @property
    def covered(self) -> int:
        """Workers the sites cover together."""
        return int(self.picks.gains.sum())


class MaximalCovering:
    """k sites among candidates that cover the most demand weight (MCLP), on sparse sets."""

    def __init__(self, sets: CoverageSets, weights: np.ndarray) -> None:
        self.sets = sets
        self.weights = np.asarray(weights, np.int64)
        if len(self.weights) != sets.n_targets:
            raise ValueError("one weight per demand point is needed")

    @classmethod
    def from_points(cls, cand_lon, cand_lat, dem_lon, dem_lat, weights,
                    threshold_m: float) -> MaximalCovering:
        """Straight-line coverage sets between candidate and demand points."""
        return cls(straight_sets(cand_lon, cand_lat, dem_lon, dem_lat, threshold_m), weights)

    def greedy(self, k: int | None = None, polish: bool = True) -> Solution:
        """Lazy greedy: at most k sites (None: until all coverable demand is covered), then,
        unless `polish=False` (nested picks, as the marginal curve needs), drop-add swaps."""
        t0 = time.perf_counter()
        picks = _lazy_greedy(self.sets, self.weights, self.sets.n_sources if k is None else k)
        return self.polished(picks, t0) if polish else self._greedy_solution(picks, t0)

    def polished(self, picks: Picks, t0: float | None = None) -> Solution:
        """Greedy picks improved by drop-add passes (Teitz-Bart): each site in turn is
        replaced by the best candidate given the others while that gains. Where that is
        cheap (MULTISTART_WORK), greedy is also restarted from the next best first sites
        and each restart polished the same way; the best set found is kept."""
        t0 = time.perf_counter() if t0 is None else t0
        k = len(picks.sites)
        if k <= 1:
            return self._greedy_solution(picks, t0)
        best = self._swapped(picks.sites)
        best_cover = self._cover(best)
        starts = int(min(MAX_STARTS, MULTISTART_WORK // max(1, len(self.sets.indices) * k)))
        firsts = np.argsort(-(self.sets.matrix() @ self.weights), kind="stable")[1:starts] \
            if starts > 1 else []
        for first in firsts:
            rest = self.weights.copy()
            rest[self.sets.row(first)] = 0
            sites = self._swapped(np.concatenate([[first],
                                                  _lazy_greedy(self.sets, rest, k - 1).sites]))
            if self._cover(sites) > best_cover:
                best, best_cover = sites, self._cover(sites)
        if not np.array_equal(best, picks.sites):
            picks = _order_by_gain(self.sets, self.weights, best)
        return self._greedy_solution(picks, t0)

    def _swapped(self, sites: np.ndarray) -> np.ndarray:
        """Sites after drop-add passes."""
        improved = _drop_add(self.sets, self.weights, sites)
        return sites if improved is None else improved

    def _cover(self, sites: np.ndarray) -> int:
        """Demand weight a set of sites covers together."""
        hit = np.zeros(self.sets.n_targets, bool)
        hit[self.sets.indices[self.sets.pairs_of(sites)]] = True
        return int(self.weights[hit].sum())

    def _greedy_solution(self, picks: Picks, t0: float) -> Solution:
        """A heuristic answer, called optimal only when it trivially is."""
        optimal = len(picks.sites) <= 1 or int(picks.gains.sum()) == self.coverable()
        return Solution(picks, "greedy", optimal, 0.0 if optimal else None,
                        time.perf_counter() - t0)

    def coverable(self) -> int:
        """Demand weight that some candidate reaches: the ceiling for any k."""
        return int(self.weights[self.sets.reached()].sum())

    def exact(self, k: int, time_limit: float = EXACT_TIME_LIMIT_S,
              start: Solution | None = None) -> Solution:
        """The MIP max sum(w y) s.t. y_i <= sum_{j covers i} x_j, sum x <= k, x, y binary,
        solved by HiGHS from a greedy answer; `optimal` only when HiGHS proved it."""
        t0 = time.perf_counter()
        start = self.greedy(k) if start is None else start
        chosen, optimal, gap = _solve_mip(self.sets, self.weights, k, start.sites, time_limit)
        picks = _order_by_gain(self.sets, self.weights, chosen)
        if picks.gains.sum() < start.covered:  # never worse than the start HiGHS was given
            picks = start.picks
        return Solution(picks, "exact", optimal, gap, time.perf_counter() - t0)


class Picks(NamedTuple):
    """Sites in pick order, their marginal gains, and per demand point which pick covers it
    first (-1: none) at what distance (NaN: none)."""

    sites: np.ndarray
    gains: np.ndarray
    assign: np.ndarray
    distance_m: np.ndarray

    def head(self, k: int) -> Picks:
        """The first k picks: greedy picks are nested, so this is greedy's answer for k."""
        first = (self.assign >= 0) & (self.assign < k)
        return Picks(self.sites[:k], self.gains[:k], np.where(first, self.assign, -1),
                     np.where(first, self.distance_m, np.nan))


def _lazy_greedy(sets: CoverageSets, weights: np.ndarray, k: int) -> Picks:
    """Greedy picks with lazy re-scoring (gains only shrink as demand is covered)."""
    remaining = weights.copy()
    left = int(remaining[remaining > 0].sum())
    assign = np.full(sets.n_targets, -1, np.int64)
    reach = np.full(sets.n_targets, np.nan)
    gain0 = sets.matrix() @ remaining
    heap = [(-int(g), int(j)) for j, g in zip(np.flatnonzero(gain0 > 0), gain0[gain0 > 0],
                                               strict=True)]
    heapq.heapify(heap)
    sites: list[int] = []
    gains: list[int] = []
    while heap and len(sites) < k and left > 0:
        _, j = heapq.heappop(heap)
        row = sets.row(j)
        gain = int(remaining[row].sum())
        if gain <= 0:
            continue
        if heap and gain < -heap[0][0]:  # stale: another site may now be better
            heapq.heappush(heap, (-gain, j))
            continue
        fresh = remaining[row] > 0
        newly = row[fresh]
        assign[newly] = len(sites)
        reach[newly] = sets.distance_m[sets.indptr[j]:sets.indptr[j + 1]][fresh]
        remaining[newly] = 0
        left -= gain
        sites.append(j)
        gains.append(gain)
    return Picks(np.array(sites, np.int64), np.array(gains, np.int64), assign, reach)


def _drop_add(sets: CoverageSets, weights: np.ndarray, sites: np.ndarray,
              max_passes: int = 3) -> np.ndarray | None:
    """Swap single sites for better ones until no swap gains; None if none did."""
    incidence = sets.matrix()
    count = np.bincount(sets.indices[sets.pairs_of(sites)], minlength=sets.n_targets)
    sites, changed = sites.copy(), False
    for _ in range(max_passes):
        swapped = False
        for pos in range(len(sites)):
            row = sets.row(sites[pos])
            count[row] -= 1
            gains = incidence @ np.where(count == 0, weights, 0)
            gains[sites] = -1
            best = int(np.argmax(gains))
            if gains[best] > int(weights[row][count[row] == 0].sum()):
                sites[pos], row, swapped = best, sets.row(best), True
            count[row] += 1
        changed |= swapped
        if not swapped:
            break
    return sites if changed else None


def _order_by_gain(sets: CoverageSets, weights: np.ndarray, chosen: np.ndarray) -> Picks:
    """A fixed set of sites ranked greedily among themselves, so each has a marginal gain."""
    flat = sets.pairs_of(chosen)
    sub = CoverageSets.from_pairs(np.repeat(np.arange(len(chosen)), np.diff(sets.indptr)[chosen]),
                                  sets.indices[flat], sets.distance_m[flat], len(chosen),
                                  sets.n_targets)
    picks = _lazy_greedy(sub, weights, len(chosen))
    return picks._replace(sites=np.asarray(chosen, np.int64)[picks.sites])


def _solve_mip(sets: CoverageSets, weights: np.ndarray, k: int, start: np.ndarray,
               time_limit: float) -> tuple[np.ndarray, bool, float | None]:
    """Build the MCLP column-wise (CSC) for HiGHS; only coverable demand gets a variable."""
    import highspy

    demand = np.flatnonzero(sets.reached() & (weights > 0))
    row_of = np.full(sets.n_targets, -1, np.int64)
    row_of[demand] = np.arange(len(demand))
    n_c, n_d = sets.n_sources, len(demand)
    src = sets.sources()
    keep = row_of[sets.indices] >= 0
    rows = np.concatenate([row_of[sets.indices][keep], np.full(n_c, n_d), np.arange(n_d)])
    cols = np.concatenate([src[keep], np.arange(n_c), n_c + np.arange(n_d)])
    vals = np.concatenate([np.full(int(keep.sum()), -1.0), np.ones(n_c), np.ones(n_d)])
    # x_j: -1 in each demand row it covers, +1 in the cardinality row; y_i: +1 in row i
    a = sparse.csc_matrix((vals, (rows, cols)), shape=(n_d + 1, n_c + n_d))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_c + n_d, n_d + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.zeros(n_c), weights[demand].astype(float)])
    lp.col_lower_ = np.zeros(n_c + n_d)
    lp.col_upper_ = np.ones(n_c + n_d)
    lp.row_lower_ = np.full(n_d + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(n_d), [float(k)]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    # y binary too, as in spopt's model: HiGHS solves bench/planning's mid-size instance 4x
    # faster so (tiny instances a little slower, where it does not matter)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (n_c + n_d)
    h = _quiet_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    # no "threads" option: HiGHS has one scheduler per process, and asking for a different
    # thread count than the first instance used (pulp's, say) makes run() fail
    h.passModel(lp)
    _warm_start(h, sets, row_of, start, n_c, n_d)
    if h.run() == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS could not run the covering model")
    status = h.getModelStatus()
    x = np.asarray(h.getSolution().col_value[:n_c]) if h.getInfo().primal_solution_status \
        else np.zeros(n_c)
    chosen = np.flatnonzero(x > 0.5)
    optimal = status == highspy.HighsModelStatus.kOptimal
    gap = float(h.getInfo().mip_gap)
    return chosen, optimal, (0.0 if optimal else (gap if np.isfinite(gap) else None))


def _quiet_highs():
    """A HiGHS instance that prints nothing: `highspy.Highs()` writes a banner to stdout before
    any option can be set (it would corrupt `--json` output), its core class does not."""
    try:
        from highspy.highs import _Highs as Highs
    except ImportError:  # pragma: no cover - a future highspy without the core class
        from highspy import Highs
    return Highs()


def _warm_start(h, sets: CoverageSets, row_of: np.ndarray, start: np.ndarray, n_c: int,
                n_d: int) -> None:
    """Hand HiGHS the greedy answer, so a time limit still leaves a good incumbent."""
    import highspy

    x = np.zeros(n_c)
    x[start] = 1.0
    y = np.zeros(n_d)
    rows = row_of[sets.indices[sets.pairs_of(start)]]
    y[rows[rows >= 0]] = 1.0
    sol = highspy.HighsSolution()
    sol.col_value = np.concatenate([x, y]).tolist()
    sol.value_valid = True
    h.setSolution(sol)


def gain_curve(gains: np.ndarray, base_covered: int, total: int) -> list[dict]:
    """Coverage share after each added site: k = 0 is today's coverage."""
    covered = base_covered + np.concatenate([[0], np.cumsum(gains)])
    return [{"k": int(i), "covered": int(c), "share": round(float(c) / total, 4) if total else None}
            for i, c in enumerate(covered)]
