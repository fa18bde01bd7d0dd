"""The Monte Carlo engine: estimates, streaming accumulation, checks that can fail, and power.

Most tests build an :class:`~initcore.Estimate` by hand, so the verdicts they assert are exact;
the sampling tests use explicit seeds (this file tests the engine, not a chapter).
"""
import numpy as np
import pytest

import initcore as ic
from initcore import montecarlo
from initcore.montecarlo import Accumulator, Estimate


# -- the z-bound and the power margin ------------------------------------------------------------

def test_k_comes_from_the_family_wise_false_alarm_rate():
    from statistics import NormalDist
    k = montecarlo.z_bound(montecarlo.FAMILY_FALSE_ALARM, montecarlo.FAMILY_SIZE)
    assert ic.K == k
    # Bonferroni: each of the FAMILY_SIZE comparisons gets FAMILY_FALSE_ALARM / FAMILY_SIZE.
    tail = 2 * (1 - NormalDist().cdf(k))
    assert tail == pytest.approx(montecarlo.FAMILY_FALSE_ALARM / montecarlo.FAMILY_SIZE, rel=1e-6)
    assert 6.0 < ic.K < 6.2
    # A wrong answer K + POWER_MARGIN standard errors away is missed with probability MISS_RATE.
    assert NormalDist().cdf(-montecarlo.POWER_MARGIN) == pytest.approx(montecarlo.MISS_RATE, rel=1e-6)


# -- Estimate and Accumulator ----------------------------------------------------------------------

def test_from_samples_is_mean_and_standard_error():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    est = Estimate.from_samples(x)
    assert est.value == pytest.approx(3.5)
    assert est.se == pytest.approx(np.std(x, ddof=1) / 2)
    assert est.n == 4 and isinstance(est.value, float)
    with pytest.raises(ValueError):
        Estimate.from_samples([1.0])


@pytest.mark.parametrize("chunks", [[1000], [1, 999], [7, 13, 280, 700], [500, 0, 500]])
def test_streaming_accumulator_equals_one_shot(chunks):
    data = np.random.default_rng(5).standard_normal((1000, 3)) * [1.0, 10.0, 1e-3] + [0.0, 1e6, -2.0]
    acc, start = Accumulator(), 0
    for m in chunks:
        acc.add(data[start:start + m])
        start += m
    streamed, one_shot = acc.estimate(), Estimate.from_samples(data)
    assert streamed.n == one_shot.n == 1000
    np.testing.assert_allclose(streamed.value, one_shot.value, rtol=1e-12)
    np.testing.assert_allclose(streamed.se, one_shot.se, rtol=1e-9)


def test_accumulator_keeps_float64_whatever_the_input_dtype():
    acc = Accumulator()
    acc.add(np.full(10, 1e4, dtype=np.float32) + np.arange(10, dtype=np.float32) * 1e-3)
    assert np.asarray(acc.mean).dtype == np.float64
    assert acc.estimate().value == pytest.approx(1e4 + 4.5e-3, rel=1e-7)


def test_sample_mean_in_chunks_equals_one_draw():
    est = ic.sample_mean(lambda g, m: g.standard_normal(m) ** 2, 1000, chunk=37, rng=3)
    ref = Estimate.from_samples(np.random.default_rng(3).standard_normal(1000) ** 2)
    assert est.n == 1000
    assert est.value == pytest.approx(ref.value, rel=1e-12)
    assert est.se == pytest.approx(ref.se, rel=1e-9)


def test_over_networks_uses_one_value_per_network_and_vector_estimates_index():
    calls = []

    def statistic(gen, c):
        calls.append(c)
        return gen.standard_normal((c, 4)) + np.arange(4)

    est = ic.over_networks(statistic, 50, chunk=16, rng=1)
    assert calls == [16, 16, 16, 2] and est.n == 50 and len(est) == 4
    assert isinstance(est[2], Estimate) and est[2].value == pytest.approx(est.value[2])
    with pytest.raises(ValueError):
        ic.over_networks(statistic, 1)


# -- check, compare, expect_rejection ----------------------------------------------------------------

def test_a_correct_estimate_passes_and_says_so_readably(capsys):
    est = Estimate(1.02, 0.01, 400)
    result = ic.check(est, 1.0, wrong=0.5, name="toy: second moment", family="draws")
    assert result.passed and result.powered
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "check toy: second moment  [family: draws]"
    assert "estimate 1.02 ± 0.01 from 400 samples; theory 1; z = +2.00, within the bound" in lines[1]
    assert lines[1].endswith(": pass") and lines[2].endswith(": rejected") and "50.0 standard errors" in lines[2]
    assert max(len(line) for line in lines) < 110
    record = result.record()
    assert record["name"] == "toy: second moment" and record["passed"] and record["family"] == "draws"
    assert record["z"] == pytest.approx(2.0) and record["separation"] == pytest.approx(50.0)
    assert record["wrong"] == 0.5 and record["n"] == 400 and record["count"] == 1


def test_check_raises_when_estimate_and_theory_disagree():
    with pytest.raises(AssertionError, match="disagrees"):
        ic.check(Estimate(1.1, 0.01, 400), 1.0, wrong=0.5, name="toy")


def test_check_raises_when_underpowered():
    # theory and wrong answer only 5 standard errors apart: the check could not tell them apart
    with pytest.raises(AssertionError, match="underpowered"):
        ic.check(Estimate(1.0, 0.01, 400), 1.0, wrong=1.05, name="toy")
    # just beyond the limit for n = 400 (the t bound plus the t margin) it runs
    limit = montecarlo.bound_for(400) + montecarlo.margin_for(400)
    assert ic.check(Estimate(1.0, 0.01, 400), 1.0, wrong=1.0 + 0.0101 * limit, name="toy").powered
    with pytest.raises(AssertionError, match="underpowered"):
        ic.check(Estimate(1.0, 0.01, 400), 1.0, wrong=1.0 + 0.0099 * limit, name="toy")


def test_bound_is_the_student_t_quantile_and_tends_to_k():
    # at the bound for n samples, the exact two-sided t tail equals the per-comparison rate
    rate = montecarlo.FAMILY_FALSE_ALARM / montecarlo.FAMILY_SIZE
    for n in (3, 16, 64, 1000, 20000):
        assert montecarlo.false_alarm_rate(n, montecarlo.bound_for(n)) == pytest.approx(rate, rel=1e-6)
        assert montecarlo.false_alarm_rate(n, montecarlo.margin_for(n)) == pytest.approx(
            2 * montecarlo.MISS_RATE, rel=1e-6)
        assert montecarlo.false_alarm_rate(n, montecarlo.bound_for(n) + montecarlo.margin_for(n)) < rate
    assert montecarlo.bound_for(16) > montecarlo.bound_for(64) > montecarlo.bound_for(10**6) > ic.K
    assert montecarlo.bound_for(10**6) == pytest.approx(ic.K, rel=1e-4)
    assert montecarlo.margin_for(10**6) == pytest.approx(montecarlo.POWER_MARGIN, rel=1e-4)


def test_vector_check_reports_worst_element_and_closest_wrong(capsys):
    est = Estimate(np.array([1.0, 2.0, 3.03]), np.array([0.01, 0.01, 0.01]), 100)
    result = ic.check(est, [1.0, 2.0, 3.0], wrong=[0.5, 1.6, 1.5], name="per layer")
    text = capsys.readouterr().out
    assert "the worst, at index 2" in text and "1.6 (index 1) lies 40.0 standard errors" in text
    record = montecarlo._scalar_fields(result.record())
    assert result.record()["count"] == 3 and record["z"] == pytest.approx(3.0)
    assert record["separation"] == pytest.approx(40.0)
    with pytest.raises(AssertionError, match="underpowered"):  # 1.9 is 10 se from 2.0 < K + margin
        ic.check(est, [1.0, 2.0, 3.0], wrong=[0.5, 1.9, 1.5], name="per layer")
    with pytest.raises(AssertionError, match="disagrees"):
        ic.check(est, [1.0, 2.0, 2.9], name="per layer")


def test_compare_refuses_non_finite_or_zero_se():
    with pytest.raises(ValueError, match="not finite"):
        ic.compare(Estimate(float("nan"), 0.1, 10), 1.0)
    with pytest.raises(ValueError, match="zero"):
        ic.compare(Estimate(1.0, 0.0, 10), 1.0)


def test_expect_rejection(capsys):
    ic.expect_rejection(Estimate(1.0, 0.01, 400), 0.5, name="factor one half")
    out = capsys.readouterr().out
    assert out.startswith("reject factor one half\n") and out.strip().endswith(": rejected")
    with pytest.raises(AssertionError, match="was not rejected"):
        ic.expect_rejection(Estimate(1.0, 0.01, 400), 1.01, name="too close")


def test_stored_checks_reads_the_records_in_notebook_outputs(tmp_path):
    check = ic.compare(Estimate(1.02, 0.01, 400), 1.0, wrong=0.5, name="a", family="depth").record()
    reject = {"kind": "reject", "name": "b", "z": 50.0, "k": 6.3}
    outputs = [{"output_type": "display_data", "metadata": {},
                "data": {"text/plain": "check a", montecarlo.CHECK_MIME: record}} for record in (check, reject)]
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs},
                    {"cell_type": "markdown", "source": "check x: not output", "metadata": {}}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    import json
    path.write_text(json.dumps(nb))
    records = montecarlo.stored_checks([path])
    assert [r["kind"] for r in records] == ["check", "reject"]
    assert records[0]["cell"] == 0 and records[0]["name"] == "a" and records[0]["family"] == "depth"


def test_false_alarm_rate_is_student_t_and_tends_to_the_normal_tail():
    from statistics import NormalDist
    normal = 2 * (1 - NormalDist().cdf(ic.K))
    assert montecarlo.false_alarm_rate(10**7) == pytest.approx(normal, rel=1e-3)
    assert montecarlo.false_alarm_rate(16) > 1e4 * normal  # few networks: far above the nominal rate
    assert montecarlo.false_alarm_rate(100, count=10) == pytest.approx(10 * montecarlo.false_alarm_rate(100))


def test_underpowered_check_warns_outside_the_test_suite_and_names_the_layer(monkeypatch, capsys):
    monkeypatch.delenv("INITCORE_STRICT", raising=False)
    est = Estimate(np.array([1.0, 1.01, 0.99]), np.array([0.01, 0.05, 0.01]), 100)
    with pytest.warns(montecarlo.UnderpoweredWarning) as record:
        result = ic.check(est, 1.0, wrong=1.2, name="per-layer experiment", family="depth")
    message = str(record[0].message)
    assert "index 1" in message and "about" in message and "networks" in message
    assert "[" not in message.split("wrong answer")[1].split("is only")[0]  # one value, not the array
    assert result.passed and not result.powered
    monkeypatch.setenv("INITCORE_STRICT", "1")
    with pytest.raises(AssertionError, match="underpowered at index 1"):
        ic.check(est, 1.0, wrong=1.2, name="per-layer experiment", family="depth")


def test_a_real_disagreement_raises_even_interactively(monkeypatch):
    monkeypatch.delenv("INITCORE_STRICT", raising=False)
    with pytest.raises(AssertionError, match="disagrees"):
        ic.check(Estimate(2.0, 0.01, 1000), 1.0, wrong=3.0, name="x")


@pytest.mark.parametrize("call, error, words", [
    (lambda: ic.check(0.98, 1.0), TypeError, "initcore.Estimate"),
    (lambda: ic.check(Estimate(1.0, 0.01, 100), 1.0, k=-1), ValueError, "bound k"),
    (lambda: ic.check(Estimate(1.0, 0.01, 100), 1.0, k="6"), ValueError, "bound k"),
    (lambda: ic.check(Estimate(1.0, 0.01, 100), 1.0, family="moments"), ValueError, "family"),
    (lambda: ic.sample_mean(lambda g, m: g.standard_normal(m), "100"), TypeError, "integer"),
    (lambda: ic.sample_mean(lambda g, m: g.standard_normal(m), 1), ValueError, "at least 2"),
    (lambda: ic.sample_mean(lambda g, m: g.standard_normal(m), 2.5), TypeError, "integer"),
    (lambda: ic.over_networks("not a function", 10), TypeError, "sampler"),
])
def test_bad_input_to_the_checks_is_refused_clearly(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_an_unrejected_wrong_answer_warns_in_a_readers_session(monkeypatch):
    monkeypatch.delenv("INITCORE_STRICT", raising=False)
    with pytest.warns(montecarlo.UnderpoweredWarning, match="about"):
        ic.expect_rejection(Estimate(1.0, 0.01, 400), 1.01, name="too close")
