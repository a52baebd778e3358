"""The benchmark's report is computed from its measurements alone; the machine-speed
line lets two sessions' figures be compared (timings themselves are never asserted)."""

from __future__ import annotations

from mlsd.bench import Measurement, reference_times, render, speed_note


def measurement(design: str, scale: str, load: int, wall_s: float) -> Measurement:
    return Measurement(design, scale, load, wall_s, 300.0, {"problem": 1.0, "model": wall_s - 1.0},
                       {"latency_p50_ms": 1.0, "latency_p99_ms": 2.0, "compute_floor_p50_ms": 0.5})


def test_speed_note_compares_with_the_previous_machine():
    now = {"python_s": 0.6, "matmul_s": 0.2}
    assert "0.60" in speed_note(now, None) and "Against" not in speed_note(now, None)
    note = speed_note(now, {"python_s": 0.3, "matmul_s": 0.4})
    assert "python 2.00x" in note and "matrix 0.50x" in note


def test_report_marks_targets_and_slowdowns_from_the_measurements(tmp_path):
    measured = [measurement("fraud", "tiny", 0, 10.0), measurement("fraud", "tiny", 3, 35.0)]
    report = render(measured, {}, {"--help": 0.1, "list": 0.2}, [0, 3], "Machine speed: test.")
    assert "Machine speed: test." in report
    assert "| fraud | tiny | 10.0 s ✓ |" in report and "35.0 s (3.5x ✗)" in report
    times = reference_times(measured, tmp_path / "none.json", {"python_s": 0.5, "matmul_s": 0.1})
    assert times["machine"] == {"python_s": 0.5, "matmul_s": 0.1}
    assert times["designs"]["fraud"]["tiny"] == {"problem": 1.0, "model": 9.0}
