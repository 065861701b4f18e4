"""Job resources sized by the data (binoval.resources): the measured anchors, with headroom, growing with the groups."""

import pytest

from binoval import resources


@pytest.mark.parametrize("rule", sorted(resources.MEMORY_MB))
def test_requests_reproduce_the_anchors_with_headroom_and_grow_with_the_groups(rule):
    assert set(resources.SECONDS[rule]) <= set(resources.MEMORY_MB[rule])  # time measured where memory was
    for groups, measured in resources.MEMORY_MB[rule].items():
        assert resources.mem_mb(rule, groups) >= measured * resources.HEADROOM
        assert resources.mem_mb(rule, groups) < measured * resources.HEADROOM + 100
    sizes = [1, 12, 100, 1000, 10_000]
    memory = [resources.mem_mb(rule, g) for g in sizes]
    runtime = [resources.runtime_min(rule, g, simulations=100) for g in sizes]
    assert memory == sorted(memory) and runtime == sorted(runtime)
    assert memory[0] == memory[1]  # never below the smallest measured job
    assert resources.mem_mb(rule, 1000, attempt=2) >= 2 * resources.mem_mb(rule, 1000) - 100
    assert min(runtime) >= 5


def test_a_shard_is_sized_by_its_simulations():
    fifty, hundred = (resources.runtime_min("sbc_shard", 1000, simulations=s) for s in (50, 100))
    per_simulation = resources.SECONDS["sbc_shard"][1000] * resources.HEADROOM / 60
    assert fifty > 5  # above the floor, so the difference is the simulations'
    assert hundred - fifty == pytest.approx(50 * per_simulation, abs=1)


def test_fits_take_a_thread_per_chain_only_on_large_data():
    assert resources.fit_threads(12, 4) == 1
    assert resources.fit_threads(resources.THREADED_GROUPS, 4) == 4


def test_the_broken_line_goes_through_each_measured_point_and_never_comes_down():
    measured = {12: 10.0, 1000: 4.0, 10_000: 40.0}
    line = [resources._line(measured, g) for g in (1, 12, 500, 1000, 5500, 10_000, 20_000)]
    assert line == [10.0, 10.0, 10.0, 10.0, 22.0, 40.0, 80.0]
    assert resources._line({12: 1.0, 1000: 100.0}, 506) == 50.5


def test_auto_shards_hold_200_simulations_while_fits_run_on_one_thread_and_100_from_there():
    threaded = resources.THREADED_GROUPS
    assert resources.fit_threads(threaded - 1, 4) == 1 and resources.fit_threads(threaded, 4) == 4
    assert [resources.sims_per_shard("auto", g) for g in (2, 12, threaded - 1)] == [200, 200, 200]
    assert [resources.sims_per_shard("auto", g) for g in (threaded, 1000, 10_000)] == [100, 100, 100]
    assert resources.sims_per_shard(37, 12) == 37 and resources.sims_per_shard("50", 10_000) == 50
    # both sizes divide the default simulations: no shard runs simulations the summary leaves out
    from binoval.defaults import POSTERIOR_SBC, SBC

    for section in (SBC, POSTERIOR_SBC):
        assert section["sims_per_shard"] == "auto"
        assert all(section["simulations"] % size == 0 for size in resources.AUTO_SIMS_PER_SHARD.values())
