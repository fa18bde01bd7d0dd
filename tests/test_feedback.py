"""The answer checks students call: right answers pass, common wrong answers get a useful hint."""
import numpy as np
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


a_plain = sp.Symbol("a")
a_pos = sp.Symbol("a", positive=True)


@pytest.mark.parametrize("answer", [a_plain**2 / 6, "a**2/6", "a^2/6", a_pos**2 / 6, sp.Rational(1, 6) * a_plain**2])
def test_right_answers_are_right_whatever_the_symbols_assumptions(answer):
    assert check_answer(answer, a_pos**2 / 6).correct


def test_expected_may_be_a_string():
    assert check_answer(a_plain**2 / 6, "a**2/6").correct
    assert not check_answer(a_plain**2 / 3, "a**2/6").correct


@pytest.mark.parametrize("answer, words", [
    (0.1666666667 * a_plain**2, "Correct"),
    (4.00001, "close"),
    (float("nan"), "not a finite number"),
    ([1, 2], "collection"),
    (np.array([1.0, 2.0]), "collection"),
    (True, "True or False"),
    (sp.Eq(sp.Symbol("v"), 4), "right-hand side"),
    ("a**2/", "Could not read the string"),
])
def test_messages_say_what_to_do(answer, words):
    expected = a_pos**2 / 6 if isinstance(answer, sp.Expr) and answer.free_symbols else 4
    feedback = check_answer(answer, expected)
    assert words in feedback.message, feedback.message
    assert "factor 1." not in feedback.message and "factor nan" not in feedback.message


def test_ratios_are_reported_only_when_simple():
    assert "factor 5/7" in check_answer(5, 7).message
    assert "factor" not in check_answer(4.37, 4).message
    assert "factor 2" in check_answer(8, 4).message


def test_a_list_of_mistakes_is_accepted():
    feedback = check_answer(3, 1, mistakes=[3])
    assert not feedback.correct and "common wrong answers" in feedback.message
    with pytest.raises(TypeError, match="mistakes must map"):
        check_answer(3, 1, mistakes=3)


def test_numpy_scalars_are_numbers():
    assert check_answer(np.float64(0.5), sp.Rational(1, 2)).correct
