"""The seed sweep's command line: COUNT, options and paths in any order."""
import pytest

from tools import seedsweep


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(seedsweep, "sweep", lambda seeds, paths, jobs, extra: seen.append((seeds, paths, jobs)) or [])
    return seen


@pytest.mark.parametrize("argv", [
    ["3", "-j", "2", "book/a.ipynb", "book/b.ipynb"],
    ["-j", "2", "3", "book/a.ipynb", "book/b.ipynb"],
    ["3", "book/a.ipynb", "book/b.ipynb", "-j", "2"],
])
def test_options_may_come_anywhere(calls, argv):
    assert seedsweep.main(argv) == 0
    (seeds, paths, jobs), = calls
    assert seeds == seedsweep.seeds_for(3, 1) and paths == ["book/a.ipynb", "book/b.ipynb"] and jobs == 2


def test_paths_alone_need_seeds(calls):
    assert seedsweep.main(["--seeds", "4,9", "book/a.ipynb"]) == 0
    assert calls == [([4, 9], ["book/a.ipynb"], 1)]
    with pytest.raises(SystemExit):
        seedsweep.main(["book/a.ipynb"])
