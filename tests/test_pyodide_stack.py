"""The Pyodide-stack run's cheap parts: the pins file, the commands built from it, bad input.

No test here creates an environment or runs a notebook (that is the CI step itself).
"""
import pytest

from tools import book, pyodide_stack as ps

# Pyodide 0.27.7's versions of the libraries the chapters import (its packages/*/meta.yaml).
PYODIDE_0_27_7 = {"numpy": "2.0.2", "scipy": "1.14.1", "sympy": "1.13.3", "mpmath": "1.3.0", "matplotlib": "3.8.4"}

GOOD = "\n".join(f"{name}==1.0" for name in ps.STACK + ps.RUNNERS)


def test_pins_file_pins_the_pyodide_stack_and_the_runners():
    pins = ps.read_pins()
    assert {name: pins[name] for name in PYODIDE_0_27_7} == PYODIDE_0_27_7
    assert set(ps.RUNNERS) <= set(pins)


def test_runners_match_requirements_txt():
    # The notebooks run with the same nbval/pytest/xdist/ipykernel as the usual suite.
    usual = {}
    for line in (ps.ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            usual[ps.normalize(name)] = version
    pins = ps.read_pins()
    assert {name: pins[name] for name in ps.RUNNERS} == {name: usual[name] for name in ps.RUNNERS}


def test_the_tool_installs_the_pins_file_and_initcore_without_its_dependencies(tmp_path):
    pins_file = tmp_path / "pins.txt"
    first, second = ps.install_commands("/env/bin/python", pins_file, root="/repo")
    assert first[:4] == ["/env/bin/python", "-m", "pip", "install"] and first[-2:] == ["-r", str(pins_file)]
    assert second[-3:] == ["--no-deps", "-e", "/repo"]


def test_comments_blank_lines_and_name_spelling():
    pins = ps.parse_pins("# header\n\n" + GOOD + "\nPyYAML==6.0.2  # trailing comment\npython_dateutil==2.9.0.post0\n")
    assert pins["pyyaml"] == "6.0.2" and pins["python-dateutil"] == "2.9.0.post0"


@pytest.mark.parametrize("line, words", [
    ("numpy>=2.0", "line 1: expected 'name==version'"),
    ("numpy", "line 1: expected 'name==version'"),
    ("numpy==", "line 1: expected 'name==version'"),
    ("-e .", "line 1: expected 'name==version'"),
    ("numpy==2.0.2; python_version<'3.12'", "line 1: expected 'name==version'"),
])
def test_anything_but_an_exact_pin_is_refused(line, words):
    with pytest.raises(ValueError, match=words):
        ps.parse_pins(line + "\n" + GOOD, source="pins.txt")


def test_a_name_pinned_twice_is_refused():
    with pytest.raises(ValueError, match="Pytest_Xdist is pinned twice"):
        ps.parse_pins(GOOD + "\nPytest_Xdist==3.8.0")


def test_a_missing_library_is_named():
    text = "\n".join(line for line in GOOD.splitlines() if not line.startswith(("scipy", "nbval")))
    with pytest.raises(ValueError, match="no pin for scipy, nbval"):
        ps.parse_pins(text, source="pins.txt")


def test_missing_pins_file(tmp_path):
    with pytest.raises(ValueError, match="pins file not found"):
        ps.read_pins(tmp_path / "absent.txt")


def test_installed_versions_are_compared_with_the_pins():
    pins = {"numpy": "2.0.2", "scipy": "1.14.1", "pytest": "9.2.0"}
    assert ps.mismatches(pins, dict(pins)) == []
    assert ps.mismatches(pins, {"numpy": "2.4.6", "pytest": "9.2.0"}) == [
        "numpy 2.4.6 (pinned 2.0.2)", "scipy missing (pinned 1.14.1)"]


def test_stamp_follows_pins_and_interpreter(tmp_path):
    base = ps.stamp("numpy==2.0.2\n", "3.11.7", tmp_path)
    assert base == ps.stamp("numpy==2.0.2\n", "3.11.7", tmp_path)
    assert base != ps.stamp("numpy==2.0.1\n", "3.11.7", tmp_path)
    assert base != ps.stamp("numpy==2.0.2\n", "3.12.1", tmp_path)


def test_pytest_command_is_lax_and_parallel():
    command = ps.pytest_command("/env/bin/python", ["book/a.ipynb"], workers=2, junit="/tmp/j.xml")
    assert command[:3] == ["/env/bin/python", "-m", "pytest"]
    assert "--nbval-lax" in command and command[command.index("-n") + 1] == "2"
    assert "--junitxml=/tmp/j.xml" in command and command[-1] == "book/a.ipynb"


@pytest.mark.parametrize("notebooks, workers, words", [([], 2, "no notebooks"), (["a.ipynb"], 0, "workers"),
                                                       (["a.ipynb"], "2", "workers")])
def test_pytest_command_bad_input(notebooks, workers, words):
    with pytest.raises(ValueError, match=words):
        ps.pytest_command("python", notebooks, workers)


def test_summary_lines():
    pins = dict(PYODIDE_0_27_7)
    ok = ps.summary(pins, "3.11.7", 18, 0, [], 47.4, "environment reused in 0 s")
    assert ok.startswith("Pyodide stack (numpy 2.0.2, scipy 1.14.1") and "all 18 notebooks passed in 47 s" in ok
    failures = [{"notebook": "book/b.ipynb", "cell": "Cell 3", "message": "x"},
                {"notebook": "book/b.ipynb", "cell": "Cell 4", "message": "y"}]
    bad = ps.summary(pins, "3.11.7", 18, 1, failures, 50, "environment created in 48 s")
    assert "FAILED, 1 of 18 notebooks failed: book/b.ipynb" in bad and "\n" not in bad
    assert "pytest exited with 4" in ps.summary(pins, "3.11.7", 18, 4, [], 1, "")


def test_every_toc_notebook_is_run(monkeypatch):
    seen = {}
    monkeypatch.setattr(ps, "ensure_env", lambda *args: (False, 0.0))
    monkeypatch.setattr(ps, "_python_version", lambda python: "3.11.7")
    monkeypatch.setattr(ps, "run_notebooks", lambda venv, notebooks, workers: seen.update(
        notebooks=notebooks, workers=workers) or (0, [], 1.0))
    assert ps.main([]) == 0
    assert seen == {"notebooks": book.notebooks(), "workers": 2}


@pytest.mark.parametrize("argv, words", [
    (["--pins", "{tmp}/absent.txt"], "pins file not found"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["README.md"], "not a notebook file"),
    (["book/absent.ipynb"], "not a notebook file"),
])
def test_bad_command_line_fails_before_any_environment(tmp_path, capsys, argv, words):
    venv = tmp_path / "env"
    argv = [arg.format(tmp=tmp_path) for arg in argv] + ["--venv", str(venv)]
    assert ps.main(argv) == 1
    assert words in capsys.readouterr().err
    assert not venv.exists()


def test_an_existing_folder_that_is_no_environment_is_left_alone(tmp_path):
    folder = tmp_path / "not-a-venv"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not a virtual environment"):
        ps.ensure_env(folder)
    assert (folder / "keep.txt").read_text() == "mine"
