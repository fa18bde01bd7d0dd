"""The Lite site's pieces (tools/lite.py), without a browser: pins, the Lite copies of the chapters,
the staged Pyodide and its checks. The browser run of one chapter is tests/browser/test_lite.py."""
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from tools import lite
from tools.book import notebooks

ROOT = Path(__file__).resolve().parents[1]


def test_requirements_pin_every_download_by_hash():
    pins = lite.read_requirements(ROOT / lite.REQUIREMENTS)
    assert set(pins) == set(lite.PYPI_PACKAGES) | {lite.MIRROR}
    assert pins["sympy"][1] == "1.13.3"


@pytest.mark.parametrize("line", ["sympy==1.13.3", "sympy>=1.13 --hash=sha256:" + "0" * 64,
                                  "sympy==1.13.3 --hash=md5:abc"])
def test_a_malformed_pin_is_a_clear_error(tmp_path, line):
    path = tmp_path / "requirements.txt"
    path.write_text("# comment\n" + line + "\n")
    with pytest.raises(lite.LiteError, match=r"requirements.txt:2: expected `NAME==VERSION --hash=sha256:HEX`"):
        lite.read_requirements(path)


def test_lite_copies_run_on_pyodide_and_keep_the_sources_intact():
    for path in notebooks(ROOT):
        source = json.loads(path.read_text(encoding="utf-8"))
        copy = lite.lite_notebook(source)
        assert source["metadata"]["kernelspec"]["name"] == "python3", path
        assert copy["metadata"]["kernelspec"]["name"] == "python", path
        code = [cell for cell in copy["cells"] if cell["cell_type"] == "code"]
        assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code), path
        assert "".join(code[0]["source"]) == lite.FIRST_CELL, path
        assert sum(cell.get("source") == lite.FIRST_CELL for cell in copy["cells"]) == 1, path
        assert len(copy["cells"]) == len(source["cells"]), path


def test_lite_url_opens_a_chapter_in_the_notebook_app():
    assert lite.lite_url("book/foundations/variance_of_a_neuron") == \
        "lite/notebooks/index.html?path=foundations/variance_of_a_neuron.ipynb"
    with pytest.raises(ValueError, match="not a chapter"):
        lite.lite_url("intro")


def _fake_inputs(tmp_path, tamper=False):
    """A tiny lock, mirror and PyPI wheels shaped like the real ones."""
    files = {"numpy-2.0.2-x.whl": b"numpy", "micropip-0.9.0-py3-none-any.whl": b"micropip"}
    mirrored = dict(files)
    if tamper:
        mirrored["numpy-2.0.2-x.whl"] = b"not numpy"
    packages = {name.split("-")[0]: {"name": name.split("-")[0], "version": name.split("-")[1],
                                     "file_name": name, "sha256": hashlib.sha256(data).hexdigest(),
                                     "depends": []} for name, data in files.items()}
    runtime = tmp_path / "pyodide"
    runtime.mkdir()
    for name in lite.RUNTIME_FILES:
        (runtime / name).write_text(name)
    mirror = tmp_path / "mirror.whl"
    with zipfile.ZipFile(mirror, "w") as archive:
        for name, data in mirrored.items():
            archive.writestr(lite.MIRROR_FOLDER + name, data)
    wheels = {}
    for name in lite.PYPI_PACKAGES:
        wheel = tmp_path / f"{name}-1.0-py3-none-any.whl"
        wheel.write_bytes(name.encode())
        wheels[name] = (wheel, "1.0", hashlib.sha256(name.encode()).hexdigest())
    initcore = tmp_path / "initcore-0.1.0-py3-none-any.whl"
    initcore.write_bytes(b"initcore")
    found = lite.Inputs(root=tmp_path, runtime=runtime, lock={"info": {"version": "0.27.7"}, "packages": packages},
                        mirror=mirror, wheels=wheels)
    return found, initcore


def test_staged_pyodide_serves_checked_files_and_a_lock_with_initcore(tmp_path, monkeypatch):
    monkeypatch.setattr(lite, "KERNEL_PACKAGES", ("micropip", "comm"))
    monkeypatch.setattr(lite, "BOOK_PACKAGES", ("numpy", "sympy", "initcore"))
    found, initcore = _fake_inputs(tmp_path)
    lock = lite.stage_pyodide(found, initcore, tmp_path / "out")
    assert set(lock["packages"]) == {"numpy", "micropip", "sympy", "mpmath", "comm", "initcore"}
    assert lock["packages"]["initcore"]["depends"] == ["numpy", "scipy", "sympy", "matplotlib"]
    for entry in lock["packages"].values():
        data = (tmp_path / "out" / entry["file_name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_a_mirrored_file_that_fails_the_lock_stops_the_build(tmp_path, monkeypatch):
    monkeypatch.setattr(lite, "KERNEL_PACKAGES", ("micropip",))
    monkeypatch.setattr(lite, "BOOK_PACKAGES", ("numpy",))
    found, initcore = _fake_inputs(tmp_path, tamper=True)
    with pytest.raises(lite.LiteError, match="does not match the sha256"):
        lite.stage_pyodide(found, initcore, tmp_path / "out")


def test_missing_downloads_mean_no_live_code_with_the_fix(tmp_path):
    (tmp_path / "lite").mkdir()
    (tmp_path / lite.REQUIREMENTS).write_text((ROOT / lite.REQUIREMENTS).read_text())
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    if not (ROOT / lite.PYODIDE_NPM / "pyodide-lock.json").exists():
        pytest.skip("npm ci has not been run")
    with pytest.raises(lite.LiteUnavailable, match="python -m tools.lite download"):
        lite.inputs(tmp_path)


def test_a_copy_without_the_pins_builds_without_live_code(tmp_path):
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    if not (ROOT / lite.PYODIDE_NPM / "pyodide-lock.json").exists():
        pytest.skip("npm ci has not been run")
    with pytest.raises(lite.LiteUnavailable, match="requirements.txt is missing"):
        lite.inputs(tmp_path)
