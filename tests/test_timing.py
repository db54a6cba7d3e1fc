"""The sweep's time split: exclusive sections against a scripted clock, and the phases a
real sweep reports (its stored results untouched by the timing)."""

import numpy as np

import sgphys
from sgphys import sweep, timing


def test_sections_are_exclusive_and_add_up(monkeypatch):
    ticks = iter(range(100))
    monkeypatch.setattr(timing.time, "perf_counter", lambda: float(next(ticks)))
    timing.take()
    with timing.section("a"):            # t = 0
        with timing.section("b"):        # t = 1: a got 1
            pass                         # t = 2: b got 1
        with timing.section("a"):        # t = 3: a got 1 more (2 -> 3)
            pass                         # t = 4: inner a got 1
    # t = 5: outer a got 1 more (4 -> 5)
    assert timing.take() == {"a": 4.0, "b": 1.0}  # 5 ticks in all, none counted twice
    assert timing.take() == {}


def test_format_split_orders_the_phases():
    line = timing.format_split({"solves": 2.0, "zeta": 1.0, "model build": 1.25, "wall": 3.5})
    assert line == "time split (s): model build 1.2, solves 2.0, zeta 1.0, wall 3.5"


def test_a_sweep_reports_its_phases_and_stores_no_timing(tmp_path, capsys):
    out = tmp_path / "pd.nc"
    ds = sgphys.run_experiment("phase_diagram", "quick", out=str(out), progress="text",
                               seeds=1, N=[10], P=[20, 40])
    split = sweep.last_time_split()
    for phase in ("model build", "solves", "test errors", "other", "I/O", "assembly", "wall"):
        assert split[phase] >= 0.0, phase
    assert split["solves"] > 0.0 and split["workers"] == 1
    assert "time split (s): model build" in capsys.readouterr().err
    assert not any(name.startswith("__") for name in ds.variables)
    again = sgphys.run_experiment("phase_diagram", "quick", seeds=1, N=[10], P=[20, 40],
                                  progress=False)
    assert np.array_equal(again.contrast_ratio.values, ds.contrast_ratio.values,
                          equal_nan=True)
