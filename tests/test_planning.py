"""Siting, station-sized zones, scenarios and 2SFCA against brute force and hand computation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from geo.analysis.access import two_step_fca
from geo.analysis.coverage import compute_coverage
from geo.analysis.plan import cell_candidates, plan_sites
from geo.analysis.scenario import Scenario, apply, recompute
from geo.analysis.siting import MaximalCovering
from geo.coords import geodesic
from geo.index.coverage_sets import CoverageSets, straight_sets
from geo.questions import CoverageSpec


def random_sets(rng, n_c: int = 10, n_d: int = 24, p: float = 0.25):
    """A random incidence matrix as coverage sets, and the dense matrix for brute force."""
    m = rng.random((n_c, n_d)) < p
    src, dst = np.nonzero(m)
    return CoverageSets.from_pairs(src, dst, np.zeros(len(src)), n_c, n_d), m


def brute_force(m: np.ndarray, w: np.ndarray, k: int) -> int:
    """The best coverage over every k-subset of candidates."""
    return max(int(w[m[list(c)].any(axis=0)].sum())
               for c in itertools.combinations(range(m.shape[0]), k))


def test_greedy_and_exact_equal_enumeration_on_tiny_instances():
    rng = np.random.default_rng(11)
    for _ in range(15):
        sets, m = random_sets(rng)
        w = rng.integers(1, 100, m.shape[1])
        mc = MaximalCovering(sets, w)
        assert mc.greedy(1).covered == brute_force(m, w, 1)  # greedy is optimal at k = 1
        for k in (1, 2, 3, 4):
            sol = mc.exact(k)
            assert sol.optimal and sol.gap == 0.0
            assert sol.covered == brute_force(m, w, k)
            # each site's gain is what it adds to the sites ranked before it
            covered = np.zeros(m.shape[1], bool)
            for site, gain in zip(sol.sites, sol.gains, strict=True):
                assert gain == int(w[m[site] & ~covered].sum())
                covered |= m[site]


def test_exact_solves_after_another_highs_user_in_the_process():
    """HiGHS keeps one thread scheduler per process: a solver used first (pulp's, here a bare
    highspy model) must not make our exact solve fail silently."""
    import highspy

    other = highspy.Highs()
    other.setOptionValue("output_flag", False)
    other.setOptionValue("threads", 2)
    other.addVar(0.0, 1.0)
    other.run()
    rng = np.random.default_rng(4)
    sets, m = random_sets(rng)
    w = rng.integers(1, 100, m.shape[1])
    sol = MaximalCovering(sets, w).exact(3)
    assert sol.optimal and sol.covered == brute_force(m, w, 3)


@pytest.mark.slow  # 50 exact MIPs in HiGHS: make test, not make check
def test_greedy_close_to_exact_on_city_like_instances():
    """50 random spatial instances (clustered demand, 1 km reach): report the worst ratio."""
    rng = np.random.default_rng(2026)
    ratios = []
    for _ in range(50):
        n, hubs = int(rng.integers(120, 220)), int(rng.integers(2, 6))
        cx, cy = 121.4 + rng.random(hubs) * 0.1, 31.2 + rng.random(hubs) * 0.08
        which = rng.integers(0, hubs, n)
        lon, lat = cx[which] + rng.normal(0, 0.012, n), cy[which] + rng.normal(0, 0.01, n)
        w = rng.lognormal(3, 1, n).astype(int) + 1
        mc = MaximalCovering.from_points(lon, lat, lon, lat, w, 1000.0)
        k = int(rng.integers(2, 7))
        exact = mc.exact(k, time_limit=20)
        assert exact.optimal
        ratios.append(mc.greedy(k).covered / exact.covered)
    worst = min(ratios)
    print(f"greedy / exact over 50 instances: worst {worst:.4f}, mean {np.mean(ratios):.4f}")
    assert worst >= 0.97
    assert np.mean(ratios) >= 0.99


def test_straight_sets_match_geodesic_brute_force():
    rng = np.random.default_rng(3)
    lon, lat = 121.45 + rng.random(60) * 0.05, 31.22 + rng.random(60) * 0.05
    clon, clat = 121.45 + rng.random(15) * 0.05, 31.22 + rng.random(15) * 0.05
    sets = straight_sets(clon, clat, lon, lat, 1500.0)
    for j in range(15):
        d, _ = geodesic(np.full(60, clon[j]), np.full(60, clat[j]), lon, lat)
        assert set(sets.row(j)) == set(np.flatnonzero(d <= 1500.0))
        got = sets.distance_m[sets.indptr[j]:sets.indptr[j + 1]]
        np.testing.assert_allclose(got, d[sets.row(j)], atol=1e-3)


@pytest.fixture(scope="module")
def relay(atlas):
    return compute_coverage(atlas, CoverageSpec("relay"))


def test_site_zones_are_disjoint_within_reach_and_sum_to_dense_gap(atlas, relay):
    g = atlas.grid
    z = relay.zones()
    table = relay.gap_table()
    assert len(np.unique(z.cells)) == len(z.cells)  # disjoint
    density = relay.served / (g.area_m2 / 1e6)
    dense_gap = ~relay.covered & (relay.served > 0) & (density >= 200)
    assert set(z.cells) == set(np.flatnonzero(dense_gap))
    assert table["workers"].sum() == relay.served[dense_gap].sum()
    d, _ = geodesic(g.lon[z.site[z.label]], g.lat[z.site[z.label]], g.lon[z.cells],
                    g.lat[z.cells])
    assert d.max() <= 1000.0 + 1e-3
    np.testing.assert_allclose(z.site_distance_m, d, atol=1e-3)
    assert (table["workers"].diff().dropna() <= 0).all()  # ranked by workers
    first = table.iloc[0]
    assert first["max_distance_m"] <= 1000.0 and first["area_km2"] < np.pi * 1.1
    # zone 1 is the single best new station for the dense gap: check against every cell
    w = np.where(dense_gap, relay.served, 0)
    best = MaximalCovering(straight_sets(g.lon, g.lat, g.lon, g.lat, 1000.0), w).greedy(1)
    assert first["workers"] == best.covered


def test_zone_districts_ordered_by_workers(atlas, relay):
    z = relay.zones()
    table = relay.gap_table()
    names = atlas.districts.set_index("code")["name"]
    for r in range(min(len(table), 40)):
        members = z.cells[z.label == r]
        by = pd.Series(relay.served[members]).groupby(atlas.grid.district[members]).sum()
        top = by.sort_values(ascending=False, kind="stable")
        assert table["districts"].iloc[r][0] == names[top.index[0]]


def test_removing_a_station_loses_exactly_what_only_it_covered(atlas, relay):
    g = atlas.grid
    sid = atlas.stations.loc[atlas.stations["type"] == "relay", "id"].iloc[5]
    after = recompute(apply(atlas.stations, Scenario(remove=(sid,)), "relay"), relay)
    st = atlas.stations.set_index("id").loc[sid]
    relay_rows = atlas.stations["type"] == "relay"
    others = atlas.stations[relay_rows & (atlas.stations["id"] != sid)]
    near_me, _ = geodesic(np.full(len(g), st["lon"]), np.full(len(g), st["lat"]), g.lon, g.lat)
    only = relay.covered & (near_me <= 1000.0)
    alone = straight_sets(others["lon"].to_numpy(), others["lat"].to_numpy(), g.lon[only],
                          g.lat[only], 1000.0)
    reached = np.zeros(int(only.sum()), bool)
    reached[alone.indices] = True
    lost = int(relay.served[np.flatnonzero(only)[~reached]].sum())
    assert relay.summary()["covered"] - after.summary()["covered"] == lost


@pytest.mark.slow  # a full plan and a recomputed Shanghai, 5 s alone: make test, not make check
def test_adding_plan_sites_raises_coverage_by_their_gains(atlas, relay):
    plan = plan_sites(relay, cell_candidates(relay), 5, atlas.districts)
    add = tuple(map(tuple, plan.sites[["lon", "lat"]].to_numpy()))
    after = recompute(apply(atlas.stations, Scenario(add=add), "relay"), relay)
    assert after.summary()["covered"] - relay.summary()["covered"] == plan.sites["gain"].sum()
    assert plan.sites["gain"].iloc[0] == relay.gap_table(min_density=0)["workers"].iloc[0]
    assert [c["k"] for c in plan.curve[:6]] == list(range(6))
    assert plan.curve[5]["covered"] >= plan.sites["covered"].iloc[-1] - 1  # nested greedy


def test_two_step_fca_by_hand():
    """3 stations, 4 cells: catchments and distances written out by hand."""
    pairs = [(0, 0, 100.0), (0, 1, 400.0), (1, 1, 200.0), (1, 2, 300.0), (2, 3, 0.0)]
    src, dst, dist = (np.array(x) for x in zip(*pairs, strict=True))
    sets = CoverageSets.from_pairs(src, dst, dist, 3, 4)
    seats, workers = np.array([10.0, 5.0, 4.0]), np.array([100.0, 300.0, 200.0, 40.0])
    acc = two_step_fca(sets, seats, workers, 1000.0, "none")
    r = [10 / 400, 5 / 500, 4 / 40]
    np.testing.assert_allclose(acc.workers_in_reach, [400, 500, 40])
    np.testing.assert_allclose(acc.cell_access, [r[0], r[0] + r[1], r[1], r[2]])
    g = lambda d: np.exp(-(d**2) / (2 * 500.0**2))  # noqa: E731
    e = two_step_fca(sets, seats, workers, 1000.0, "gaussian")
    r0 = 10 / (g(100) * 100 + g(400) * 300)
    r1 = 5 / (g(200) * 300 + g(300) * 200)
    np.testing.assert_allclose(e.cell_access[1], g(400) * r0 + g(200) * r1)


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_two_step_fca_equals_pysal_access():
    import access  # PySAL's, a test dependency: never skipped

    rng = np.random.default_rng(5)
    n_s, n_c = 6, 40
    slon, slat = 121.45 + rng.random(n_s) * 0.03, 31.22 + rng.random(n_s) * 0.03
    clon, clat = 121.45 + rng.random(n_c) * 0.03, 31.22 + rng.random(n_c) * 0.03
    seats, workers = rng.integers(4, 20, n_s).astype(float), rng.integers(1, 500, n_c)
    sets = straight_sets(slon, slat, clon, clat, 1500.0)
    cost = pd.DataFrame({"origin": sets.indices, "dest": sets.sources(),
                         "cost": sets.distance_m})
    demand = pd.DataFrame({"id": np.arange(n_c), "pop": workers})
    supply = pd.DataFrame({"id": np.arange(n_s), "seats": seats})
    for decay, fn in (("none", None), ("gaussian", access.weights.gaussian(750.0))):
        a = access.Access(demand_df=demand, demand_index="id", demand_value="pop",
                          supply_df=supply, supply_index="id", supply_value="seats",
                          cost_df=cost, cost_origin="origin", cost_dest="dest",
                          cost_name="cost")
        ref = a.two_stage_fca(name="x", max_cost=1500.0, weight_fn=fn)
        ours = two_step_fca(sets, seats, workers, 1500.0, decay).cell_access
        ref = ref.iloc[:, 0].reindex(range(n_c)).fillna(0).to_numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)
