"""The time estimate against runs measured in BENCHMARKS.md (it promises a factor of two)."""
import pytest

from studio.estimate import estimate_run

MINILM = dict(layers=6, width=384, total_params=22_700_000, trainable_params=11_000_000, method="full",
              freeze_layers=0, longest_tokens=40)


@pytest.mark.parametrize("rows, eval_rows, tokens, measured_s", [
    (9_003, 4_080, 12, 6.4),    # banking77, default preset, H100
    (20_000, 2_872, 13, 9.4),   # sst2 20k, default preset, H100
])
def test_gpu_estimate_is_within_a_factor_of_two(rows, eval_rows, tokens, measured_s):
    e = estimate_run(**MINILM, train_rows=rows, eval_rows=eval_rows, evaluations=6, epochs=6, batch_size=64,
                     tokens=tokens, device="cuda", threads=16)
    assert measured_s / 2 <= e.seconds <= measured_s * 2


@pytest.mark.parametrize("rows, eval_rows, tokens, measured_s", [
    (4_000, 1_272, 13.6, 140.8),   # sst2 4,000 rows, default preset, quiet 2-core CPU
    (9_003, 4_080, 12, 393.3),     # banking77, default preset, quiet 2-core CPU
])
def test_cpu_estimate_is_within_a_factor_of_two(rows, eval_rows, tokens, measured_s):
    e = estimate_run(**MINILM, train_rows=rows, eval_rows=eval_rows, evaluations=6, epochs=6, batch_size=32,
                     tokens=tokens, device="cpu", threads=2)
    assert measured_s / 2 <= e.seconds <= measured_s * 2


def test_freezing_and_smaller_data_take_less_time():
    base = dict(MINILM, train_rows=4_000, eval_rows=1_000, evaluations=3, epochs=3, batch_size=32, tokens=13,
                device="cpu", threads=2)
    full = estimate_run(**base)
    frozen = estimate_run(**dict(base, method="freeze", freeze_layers=4))
    smaller = estimate_run(**dict(base, train_rows=1_000))
    assert frozen.seconds < full.seconds and smaller.seconds < full.seconds
    assert frozen.memory_bytes < full.memory_bytes
    gpu = estimate_run(**dict(base, device="cuda"))
    assert gpu.seconds < full.seconds / 10


def test_calibration_learns_from_the_machines_last_runs(tmp_path):
    from studio.config import DataConfig, RunConfig
    from studio.runs import Run
    from studio.estimate import calibration, record_estimate
    assert calibration(tmp_path, "cpu") is None  # no run yet: the estimate says it is not calibrated
    run = Run.create(tmp_path, RunConfig(data=DataConfig(train_file="x.csv")))
    record_estimate(run.path, samples_per_s=400.0, seconds=10.0, device="cpu")
    for step, speed in ((1, 50.0), (2, 190.0), (3, 200.0), (4, 210.0)):
        run.append_event({"type": "step", "step": step, "samples_per_s": speed})
    assert calibration(tmp_path, "cpu") == 2.0   # measured 200 texts/s where 400 were expected: twice as long
    assert calibration(tmp_path, "cuda") is None  # another device learns nothing from it


def test_the_time_left_follows_the_measured_pace():
    from studio.estimate import remaining_seconds
    steps = [{"step": s, "time": 100.0 + 2 * s} for s in range(1, 11)]  # 2 s a step
    assert remaining_seconds(steps, 20) == 20.0
    slower = steps + [{"step": s, "time": 120.0 + 4 * (s - 10)} for s in range(11, 40)]  # 4 s a step lately
    assert remaining_seconds(slower, 50, window=10) == pytest.approx(44.0)
    assert remaining_seconds(steps[:1], 20) is None
