"""The answer checks students call: right answers pass, common wrong answers get a useful hint."""
import pytest
import sympy as sp

from initcore.feedback import check_answer

sigma = sp.Symbol("sigma", positive=True)
n = sp.Symbol("n", positive=True)


def test_right_answers_pass_in_any_equivalent_form():
    assert check_answer(sigma**2 / 2, sigma**2 / 2)
    assert check_answer(sp.Rational(1, 2) * sigma * sigma, sigma**2 / 2)
    assert check_answer(0.5, sp.Rational(1, 2))
    assert check_answer(sp.sqrt(3 / n), sp.sqrt(3) / sp.sqrt(n))


def test_factor_two_is_diagnosed():
    fb = check_answer(sigma**2, sigma**2 / 2)
    assert not fb and "factor 2" in fb.message
    fb = check_answer(sigma**2 / 4, sigma**2 / 2)
    assert not fb and "factor 1/2" in fb.message


def test_named_mistake_hint_wins():
    var_relu = sigma**2 * (sp.pi - 1) / (2 * sp.pi)
    fb = check_answer(var_relu, sigma**2 / 2, mistakes={var_relu: "that is the variance, not the second moment"})
    assert not fb and "variance, not the second moment" in fb.message
    assert repr(fb).startswith("Not yet")


def test_square_root_sign_and_missing_answer():
    assert "square root" in check_answer(sp.sqrt(2 / n), 2 / n).message
    assert "sign" in check_answer(-sp.Rational(1, 4), sp.Rational(1, 4)).message
    fb = check_answer(None, 1)
    assert not fb and "No answer yet" in fb.message
    assert "factor 3" in check_answer(3 / n, 1 / n).message
    assert not check_answer("not a formula (", 1)


def test_grading_mode_raises_on_wrong_answers(monkeypatch):
    monkeypatch.setenv("INITCORE_GRADING", "1")
    assert check_answer(sigma**2 / 2, sigma**2 / 2)
    with pytest.raises(AssertionError, match="factor 2"):
        check_answer(sigma**2, sigma**2 / 2)
    with pytest.raises(AssertionError, match="No answer yet"):
        check_answer(None, 1)
