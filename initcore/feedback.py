"""Feedback on a student's answer: right, or what probably went wrong.

An exercise derives the correct ``expected`` value in the notebook and then
calls :func:`check_answer` on the student's ``answer``. Answers may be numbers
or SymPy expressions. Besides the named ``mistakes`` (wrong answers the
exercise anticipates, each with a hint), common slips are recognized
generically: a wrong sign, a constant factor (2, 1/2, 3, ...), a missing
square or square root.

For grading, set the environment variable ``INITCORE_GRADING=1``: then a wrong
or missing answer raises ``AssertionError`` with the same message, so running a
submitted notebook under pytest (``INITCORE_GRADING=1 pytest --nbval-lax
submission.ipynb``) fails exactly at the wrong answers.
"""
import os
from dataclasses import dataclass

import sympy as sp

_FACTOR_HINTS = {
    sp.Integer(2): "off by a factor 2: is this the variance where the second moment is needed, "
                   "or the ReLU halving applied twice?",
    sp.Rational(1, 2): "off by a factor 1/2: did you halve twice, or forget that both halves of the "
                       "Gaussian contribute?",
    sp.Integer(3): "off by a factor 3: the variance of U(-a, a) is a^2/3, not a^2.",
    sp.Rational(1, 3): "off by a factor 1/3: a uniform bound and a variance got mixed up.",
}


@dataclass(frozen=True)
class Feedback:
    correct: bool
    message: str

    def __bool__(self):
        return self.correct

    def __str__(self):
        return self.message

    __repr__ = __str__


def _same(a, b, tol):
    """Numerically equal within relative tolerance ``tol`` (False if either is not a number)."""
    try:
        x, y = complex(sp.N(a)), complex(sp.N(b))
    except (TypeError, ValueError):
        return False
    return abs(x - y) <= max(tol, 1e-12) * max(1.0, abs(y))


def _ratio(answer, expected):
    try:
        r = sp.simplify(sp.sympify(answer) / sp.sympify(expected))
    except (sp.SympifyError, ZeroDivisionError, TypeError):
        return None
    return r if r.is_number else None


def check_answer(answer, expected, mistakes=None, tol=1e-9):
    """Compare ``answer`` with ``expected`` and return a :class:`Feedback` (shown as its message).

    ``mistakes`` maps anticipated wrong answers to hints. Numbers agree within
    the relative tolerance ``tol``; expressions must simplify to the same thing.
    With ``INITCORE_GRADING=1`` in the environment, a wrong answer raises
    ``AssertionError`` instead of returning.
    """
    feedback = _feedback(answer, expected, mistakes, tol)
    if not feedback.correct and os.environ.get("INITCORE_GRADING") == "1":
        raise AssertionError(feedback.message)
    return feedback


def _feedback(answer, expected, mistakes, tol):
    if answer is None or answer is Ellipsis:
        return Feedback(False, "No answer yet: replace the placeholder with your answer and run the cell again.")
    try:
        answer = sp.sympify(answer)
    except (sp.SympifyError, TypeError):
        return Feedback(False, f"Could not read {answer!r} as a number or a SymPy expression.")
    expected = sp.sympify(expected)
    if _exact_or_close(answer, expected, tol):
        return Feedback(True, f"Correct: {sp.sstr(expected)}.")
    return Feedback(False, "Not yet: " + _diagnose(answer, expected, mistakes or {}, tol))


def _exact_or_close(a, b, tol):
    if a.free_symbols or b.free_symbols:
        return sp.simplify(a - b) == 0
    return _same(a, b, tol)


def _diagnose(answer, expected, mistakes, tol):
    for wrong, hint in mistakes.items():
        if _exact_or_close(answer, sp.sympify(wrong), tol):
            return hint
    if _exact_or_close(answer, -expected, tol):
        return "the sign is wrong."
    if _exact_or_close(answer, expected**2, tol):
        return "this is the square of the answer: a variance where a standard deviation is asked?"
    if _exact_or_close(answer**2, expected, tol):
        return "this is the square root of the answer: a standard deviation where a variance is asked?"
    ratio = _ratio(answer, expected)
    if ratio is not None:
        for factor, hint in _FACTOR_HINTS.items():
            if _same(ratio, factor, tol):
                return hint
        return f"off by a factor {sp.nsimplify(ratio, rational=False)}."
    return "this does not agree with the derivation; compare it with the chapter's result."
