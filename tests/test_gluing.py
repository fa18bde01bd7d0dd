"""initcore.glue writes exactly what myst_nb.glue writes, so the book build pastes its values."""
import IPython.display
import pytest
import sympy as sp
from myst_nb.ext import glue as myst_glue

import initcore


@pytest.mark.parametrize("display", [True, False])
@pytest.mark.parametrize("value", [1.5, 3, "text", sp.sqrt(3) / sp.Symbol("n")])
def test_same_output_as_myst_nb(monkeypatch, value, display):
    calls = []

    def record(*args, **kwargs):
        calls.append((args, kwargs))

    monkeypatch.setattr(myst_glue, "ipy_display", record)
    monkeypatch.setattr(IPython.display, "display", record)
    myst_glue.glue("name", value, display=display)
    initcore.glue("name", value, display=display)
    assert len(calls) == 2
    assert calls[0] == calls[1]
    assert calls[1][1]["metadata"]["scrapbook"] == {
        "name": "name", "mime_prefix": "" if display else myst_glue.GLUE_PREFIX}


def test_prefix_is_myst_nbs():
    assert initcore.gluing.GLUE_PREFIX == myst_glue.GLUE_PREFIX
