"""Stored notebooks open clean in JupyterLab, and saving them unchanged rewrites nothing (issue 12).

JupyterLab marked every stored notebook modified on open: when the kernel starts it copies the kernel's
`language_info` into the notebook's metadata, and `utils.book` had stripped it. On save, jupytext's
contents manager also wrote the filters of `jupytext.toml` into both files of the pair. `utils.book.METADATA`
now holds both, as JupyterLab and jupytext would write them. These tests check that against the sources of
truth (the kernel, jupytext.toml, jupytext's own contents manager); `tests/test_browser.py` checks the
dirty mark itself in a real browser.
"""

import asyncio
import shutil
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from utils import book

ROOT = Path(__file__).resolve().parent.parent


def test_language_info_is_what_the_kernel_reports():
    from ipykernel.ipkernel import IPythonKernel

    reported = dict(IPythonKernel.language_info)  # what ipykernel sends in its kernel_info reply
    stored = dict(book.LANGUAGE_INFO)
    assert stored.pop("version") == book.REFERENCE_PYTHON
    reported_version = reported.pop("version")
    assert stored == reported
    assert reported_version == sys.version.split()[0]
    assert book.METADATA["language_info"] == book.LANGUAGE_INFO


def test_jupytext_metadata_holds_the_filters_of_jupytext_toml():
    config = tomllib.loads((ROOT / "jupytext.toml").read_text())
    assert book.METADATA["jupytext"] == {
        "formats": config["formats"],
        "notebook_metadata_filter": config["notebook_metadata_filter"],
        "cell_metadata_filter": config["cell_metadata_filter"],
    }


def _pair(folder: Path, stem: str) -> Path:
    """A chapter-like pair written by utils.book, with one executed-looking output."""
    source = "# %% [markdown]\n# # Title · with a non-ASCII dot\n\n# %% tags=[\"demo\"]\nx = 3\nprint(x * 2)\n"
    py = folder / f"{stem}.py"
    py.write_text(source)
    nb = book.read_py(py)
    py.write_text(book.py_text(nb))
    nb.cells[1].execution_count = 1
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="6\n")]
    (folder / f"{stem}.ipynb").write_text(book.ipynb_text(nb))
    return py


@pytest.mark.parametrize("stem", ["02_demo", "ex02_demo"])
def test_jupyterlab_contents_round_trip_rewrites_nothing(tmp_path, stem):
    """Open and save through the contents manager JupyterLab's server uses (jupytext's, over the server's
    default file manager): the model served carries the stored metadata unchanged, and saving it back
    leaves both files of the pair byte-identical."""
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    shutil.copy2(ROOT / "jupytext.toml", tmp_path)
    folder = tmp_path / "chapters"
    folder.mkdir()
    py = _pair(folder, stem)
    ipynb = py.with_suffix(".ipynb")
    before = {p: p.read_bytes() for p in (py, ipynb)}

    manager = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)(root_dir=str(tmp_path))

    async def open_and_save():
        model = await manager.get(f"chapters/{stem}.ipynb", content=True)
        served = model["content"]
        await manager.save({"type": "notebook", "format": "json", "content": served}, f"chapters/{stem}.ipynb")
        return served

    served = asyncio.run(open_and_save())
    assert served["metadata"] == book.METADATA
    assert [c["source"] for c in served["cells"]] == [c.source for c in book.read_py(py).cells]
    after = {p: p.read_bytes() for p in (py, ipynb)}
    for path in before:
        assert after[path] == before[path], f"saving {path.name} unchanged rewrote it"


def test_old_metadata_is_stale_and_build_rewrites_it_without_executing(tmp_path):
    folder = tmp_path / "chapters"
    folder.mkdir()
    (tmp_path / "exercises").mkdir()
    py = _pair(folder, "01_demo")
    ipynb = py.with_suffix(".ipynb")
    assert book.stale_reasons(tmp_path) == {}
    old = nbformat.reads(ipynb.read_text(), as_version=4)
    old.metadata = {"jupytext": {"formats": "ipynb,py:percent"}, "kernelspec": book.KERNELSPEC}
    ipynb.write_text(nbformat.writes(old) + "\n")
    assert book.stale_reasons(tmp_path) == {
        "chapters/01_demo.ipynb":
            "not in canonical form: metadata, ids or split output text (build rewrites it, keeping outputs)"
    }
    _, seconds, done = book._build_one(str(py), force=False)
    assert (seconds, done) == (0.0, "rewrote to canonical form")  # no kernel was started
    rebuilt = nbformat.reads(ipynb.read_text(), as_version=4)
    assert rebuilt.metadata == book.METADATA
    assert rebuilt.cells[1].outputs[0].text == "6\n"  # the stored output is kept, not recomputed
    assert book.stale_reasons(tmp_path) == {}
