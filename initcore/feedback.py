"""Feedback on a student's answer: right, or what probably went wrong.

An exercise derives the correct ``expected`` value in the notebook and then
calls :func:`check_answer` on the student's ``answer``. Answers may be numbers,
SymPy expressions or strings that SymPy can read (``"a**2/6"``); symbols are
compared by name, whatever assumptions they were created with, so a student's
``sp.Symbol("a")`` matches the chapter's ``sp.Symbol("a", positive=True)``.
Besides the named ``mistakes`` (wrong answers the exercise anticipates, each
with a hint), common slips are recognized generically: a wrong sign, a simple
constant factor (2, 1/2, 3, ...), a missing square or square root.

Numbers, and expressions with decimal numbers in them, agree when they agree to
the relative tolerance ``tol`` (``1e-6`` by default: six significant digits); an
answer that is close but outside it is told how close it is.

**Sealed answers.** Whenever a feedback cell runs with a readable ``expected``, its output also
carries a *sealed* record (MIME type :data:`SEALED_MIME`): salted SHA-256 fingerprints of the
expected value and of each recognized wrong answer, with the hints, and nothing readable of the
values themselves. A fingerprint hashes the value (rounded to :data:`DIGITS` significant digits) at
a few fixed points of its symbols, so any equivalent form of the answer has the same one. The
student edition replaces each feedback cell by ``check_answer(answer, sealed(record))``, which
gives the same feedback without holding the answer; an instructor grades submissions against the
same records (``tools/grade.py``), never by running the student's own cells.
"""
import hashlib
import json
import math
import os
from collections.abc import Mapping
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

#: The relative tolerance for answers with decimal numbers in them.
TOLERANCE = 1e-6

_WHAT_TO_HAND_IN = ("Hand in one number (like 0.5 or 1/3), a SymPy expression (like a**2/6 built from "
                    "sp.Symbol('a')), or a string SymPy can read (like 'a**2/6').")


@dataclass(frozen=True)
class Feedback:
    correct: bool
    message: str
    sealed: dict = None

    def __bool__(self):
        return self.correct

    def __str__(self):
        return self.message

    __repr__ = __str__

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": self.message}
        if self.sealed is not None:
            bundle[SEALED_MIME] = self.sealed
        return bundle


#: The MIME type of the sealed record a feedback cell's output carries.
SEALED_MIME = "application/vnd.initcore.sealed-answer+json"
#: Significant digits a fingerprint keeps (equivalent to a relative tolerance of about 1e-6).
DIGITS = 7
_SALT = "initcore sealed answers v1"


class _Unreadable(Exception):
    """An answer that is no number or expression; its message tells the student what to hand in."""


def check_answer(answer, expected, mistakes=None, tol=TOLERANCE):
    """Compare ``answer`` with ``expected`` and return a :class:`Feedback` (shown as its message).

    ``mistakes`` maps anticipated wrong answers to hints (a list of wrong answers gets a generic
    hint). Numbers agree within the relative tolerance ``tol``; exact expressions must simplify to
    the same thing, expressions with decimals must agree within ``tol`` at several points. With
    ``INITCORE_GRADING=1`` in the environment, a wrong answer raises ``AssertionError`` instead of
    returning.
    """
    if isinstance(expected, Sealed):
        feedback = expected.feedback(answer)
    else:
        mistakes = _mistakes(mistakes)
        feedback = _feedback(answer, expected, mistakes, tol)
        feedback = Feedback(feedback.correct, feedback.message, seal(expected, mistakes))
    if not feedback.correct and os.environ.get("INITCORE_GRADING") == "1":
        raise AssertionError(feedback.message)
    return feedback


def _mistakes(mistakes):
    if mistakes is None:
        return {}
    if isinstance(mistakes, Mapping):
        return dict(mistakes)
    if isinstance(mistakes, (list, tuple, set, frozenset)):
        return {wrong: "this is one of the common wrong answers; go through the derivation again."
                for wrong in mistakes}
    raise TypeError(f"mistakes must map wrong answers to hints ({{wrong: 'hint'}}), got {mistakes!r}")


def _plain(expr):
    """``expr`` with every symbol replaced by a plain symbol of the same name (no assumptions)."""
    return expr.xreplace({s: sp.Symbol(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol)})


def _read(value, who):
    """A SymPy expression for ``value``, or :class:`_Unreadable` with what to hand in instead."""
    if value is None or value is Ellipsis:
        raise _Unreadable("No answer yet: replace the placeholder with your answer and run the cell again.")
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise _Unreadable(f"{who} is True or False, not a value. " + _WHAT_TO_HAND_IN)
    if isinstance(value, (sp.Equality, sp.core.relational.Relational)):
        raise _Unreadable(f"{who} is an equation or inequality ({value}); hand in only its right-hand side, "
                          "the value itself.")
    if hasattr(value, "shape") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, (list, tuple, set, dict)) or hasattr(value, "shape"):
        raise _Unreadable(f"{who} is a collection of values ({type(value).__name__}); the exercise asks for one. "
                          + _WHAT_TO_HAND_IN)
    if isinstance(value, str):
        try:
            expr = sp.parse_expr(value.strip().replace("^", "**"))
        except Exception:  # noqa: BLE001 - any parse error: say what to write
            raise _Unreadable(f"Could not read the string {value!r} as a formula. Write it as Python would, "
                              "e.g. 'a**2/6' or 'sqrt(3/n)'.") from None
    else:
        try:
            expr = sp.sympify(value, strict=True)
        except (sp.SympifyError, TypeError):
            raise _Unreadable(f"Could not read {value!r} as a number or a SymPy expression. "
                              + _WHAT_TO_HAND_IN) from None
    if not isinstance(expr, sp.Expr):
        raise _Unreadable(f"{who} ({expr}) is not a number or an expression. " + _WHAT_TO_HAND_IN)
    if expr.has(sp.nan) or (expr.is_number and expr.is_finite is False):
        raise _Unreadable(f"{who} is not a finite number ({expr}): check the computation that produced it.")
    return _plain(expr)


def _feedback(answer, expected, mistakes, tol):
    try:
        expected = _read(expected, "The expected value")
    except _Unreadable as why:
        raise ValueError(f"check_answer: {why}") from None
    try:
        answer = _read(answer, "Your answer")
    except _Unreadable as why:
        return Feedback(False, str(why))
    if _agree(answer, expected, tol):
        return Feedback(True, f"Correct: {sp.sstr(expected)}.")
    return Feedback(False, "Not yet: " + _diagnose(answer, expected, mistakes, tol))


def _has_float(expr):
    return bool(expr.atoms(sp.Float))


def _numbers(a, b):
    try:
        return complex(sp.N(a)), complex(sp.N(b))
    except (TypeError, ValueError):
        return None


def _close(x, y, tol):
    return abs(x - y) <= tol * max(abs(y), 1e-300) or x == y


def _agree(a, b, tol):
    """Equal: exactly (simplification), or within ``tol`` where a decimal number is involved."""
    if not (a.free_symbols or b.free_symbols):
        pair = _numbers(a, b)
        if pair is None:
            return False
        x, y = pair
        if not (_has_float(a) or _has_float(b)) and not (x.imag or y.imag):
            exact = sp.simplify(a - b)
            if exact.is_number and exact != 0 and not _has_float(exact):
                return _close(x, y, 1e-12)
        return _close(x, y, tol)
    if not (_has_float(a) or _has_float(b)):
        return sp.simplify(a - b) == 0 or _at_points(a, b, 1e-12)
    return _at_points(a, b, tol)


def _at_points(a, b, tol):
    """``a`` and ``b`` agree within ``tol`` at the fixed points of their symbols (those of :func:`fingerprint`)."""
    symbols = a.free_symbols | b.free_symbols
    values_a, values_b = _values(a, symbols), _values(b, symbols)
    if values_a is None or values_b is None:
        return False
    return all(_close(x, y, tol) for x, y in zip(values_a, values_b))


def _simple_ratio(answer, expected):
    """The ratio answer/expected if it is a simple constant (p/q with small p, q, or its square root)."""
    try:
        ratio = sp.simplify(answer / expected)
    except (ZeroDivisionError, TypeError):
        return None
    if not ratio.is_number or ratio == 0 or ratio.has(sp.nan, sp.zoo):
        return None
    value = complex(sp.N(ratio))
    if value.imag or not math.isfinite(value.real):
        return None
    for candidate in (ratio, sp.nsimplify(value.real, tolerance=1e-6, rational=True)):
        for base in (candidate, candidate**2):
            if base.is_Rational and abs(base.p) <= 12 and base.q <= 12:
                return sp.sqrt(base) if base is not candidate else candidate
    return None


def _diagnose(answer, expected, mistakes, tol):
    for wrong, hint in mistakes.items():
        if _agree(answer, _read(wrong, "A listed mistake"), tol):
            return hint
    if _agree(answer, -expected, tol):
        return "the sign is wrong."
    if _agree(answer, expected**2, tol):
        return "this is the square of the answer: a variance where a standard deviation is asked?"
    if _agree(answer**2, expected, tol):
        return "this is the square root of the answer: a standard deviation where a variance is asked?"
    if not (answer.free_symbols or expected.free_symbols):
        pair = _numbers(answer, expected)
        if pair is not None and pair[1] != 0:
            relative = abs(pair[0] - pair[1]) / abs(pair[1])
            if relative < 1e-2:
                return (f"close, but it differs from the expected value by a relative {relative:.1g}, more than "
                        f"the tolerance {tol:g}: give the exact value or more digits.")
    ratio = _simple_ratio(answer, expected)
    if ratio is not None:
        for factor, hint in _FACTOR_HINTS.items():
            if sp.simplify(ratio - factor) == 0:
                return hint
        return f"off by a factor {sp.sstr(ratio)}."
    if answer.free_symbols != expected.free_symbols:
        names = ", ".join(sorted(s.name for s in expected.free_symbols)) or "no symbols"
        return f"the expected answer depends on {names}; yours on " \
               f"{', '.join(sorted(s.name for s in answer.free_symbols)) or 'no symbols'}."
    return "this does not agree with the derivation; compare it with the chapter's result."



# ---------------------------------------------------------------------------------------------
# Sealed answers: fingerprints instead of values.


def _point(name, index):
    """A fixed value in [0.5, 3) for symbol ``name`` at evaluation point ``index``."""
    digest = hashlib.sha256(f"{_SALT}|{name}|{index}".encode()).digest()
    return sp.Float(0.5 + 2.5 * int.from_bytes(digest[:6], "big") / 2**48, 30)


def _rounded(value):
    """``value`` (complex) as text with :data:`DIGITS` significant digits per part."""
    parts = []
    for part in (value.real, value.imag):
        parts.append("0" if part == 0 else f"{part:.{DIGITS - 1}e}")
    return ",".join(parts)


def _values(expr, symbols=None, points=3):
    """``expr`` at ``points`` fixed points of ``symbols`` (its own by default); ``None`` if not finite."""
    symbols = sorted(expr.free_symbols if symbols is None else symbols, key=lambda s: s.name)
    out = []
    for index in range(points if symbols else 1):
        value = complex(sp.N(expr.subs({s: _point(s.name, index) for s in symbols}), 30))
        if not (math.isfinite(value.real) and math.isfinite(value.imag)):
            return None
        out.append(value)
    return out


def fingerprint(value):
    """The salted fingerprint of a number or expression (``None`` if it cannot be evaluated)."""
    expr = value if isinstance(value, sp.Expr) else _read(value, "The value")
    values = _values(_plain(expr))
    if values is None:
        return None
    return _digest([_rounded(v) for v in values])


def _digest(texts):
    return hashlib.sha256((_SALT + "|" + "|".join(texts)).encode()).hexdigest()[:32]


def _fingerprints_near(expr):
    """Fingerprints of ``expr`` and of its values nudged by a rounding step (answers near a boundary)."""
    values = _values(expr)
    if values is None:
        return set()
    nudges = (1.0, 1 + 10.0 ** -(DIGITS + 1), 1 - 10.0 ** -(DIGITS + 1))
    return {_digest([_rounded(v * f) for v in values]) for f in nudges}


_GENERIC = [
    (lambda e: -e, "the sign is wrong."),
    (lambda e: e**2, "this is the square of the answer: a variance where a standard deviation is asked?"),
    (lambda e: sp.sqrt(e), "this is the square root of the answer: a standard deviation where a variance is asked?"),
] + [(lambda e, f=factor: f * e, hint) for factor, hint in _FACTOR_HINTS.items()]


def seal(expected, mistakes=None):
    """The sealed record of an exercise: fingerprints of the answer and of its anticipated slips."""
    expected = _read(expected, "The expected value")
    wrong = []
    for value, hint in _mistakes(mistakes).items():
        wrong.append([fingerprint(_read(value, "A listed mistake")), hint])
    for transform, hint in _GENERIC:
        wrong.append([fingerprint(transform(expected)), hint])
    return {"version": 1, "expected": fingerprint(expected),
            "symbols": sorted(s.name for s in expected.free_symbols),
            "mistakes": [pair for pair in wrong if pair[0] is not None]}


@dataclass(frozen=True)
class Sealed:
    """An expected answer known only by its fingerprint (see :func:`seal`)."""

    record: dict

    def feedback(self, answer):
        try:
            answer = _read(answer, "Your answer")
        except _Unreadable as why:
            return Feedback(False, str(why))
        near = _fingerprints_near(answer)
        if self.record["expected"] in near:
            return Feedback(True, "Correct.")
        for digest, hint in self.record["mistakes"]:
            if digest in near:
                return Feedback(False, "Not yet: " + hint)
        expected_symbols = set(self.record.get("symbols", []))
        if {s.name for s in answer.free_symbols} != expected_symbols:
            names = ", ".join(sorted(expected_symbols)) or "no symbols"
            return Feedback(False, f"Not yet: the expected answer depends on {names}; yours on "
                                   f"{', '.join(sorted(s.name for s in answer.free_symbols)) or 'no symbols'}.")
        return Feedback(False, "Not yet: this does not agree with the derivation; compare it with the "
                               "chapter's result (an equivalent form is accepted, and decimals to "
                               f"{DIGITS} significant digits).")


def sealed(record):
    """``Sealed(record)`` from a record written by :func:`seal` (a dict, or its JSON text)."""
    if isinstance(record, str):
        record = json.loads(record)
    if not isinstance(record, dict) or record.get("version") != 1 or "expected" not in record:
        raise ValueError("not a sealed answer record: rebuild the student edition from executed notebooks")
    return Sealed(record)
