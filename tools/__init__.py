"""Tools for the book's authors and instructors, kept out of the installed ``initcore`` package.

Run them from the repository root: ``python -m tools.student OUTDIR``, ``python -m tools.seedsweep 20``,
``python tools/grade.py KEY SUBMISSIONS``, ``python tools/calibrate.py``, ``python tools/prose_numbers.py``,
``python tools/set_repository.py URL``. Readers who only run chapters never need them.
"""
