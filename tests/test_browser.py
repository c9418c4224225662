"""A student's first ten minutes, in a real browser: the README's start command, the landing notebook, a
chapter and its slider, the chapter's exercise and a wrong answer.

nbval proves that every stored output reproduces; it never starts JupyterLab. This test does what the
README tells a student to do after the install: it runs the README's start command (read from the README,
run verbatim, from the book's folder — here a copy of it, so that nothing the test does touches the
repository) and drives headless Chromium through the book:

1. the URL the server prints opens ``chapters/00_index.ipynb``: no news pop-up, the notebook not marked
   modified (and *File > Save* of it unchanged rewrites neither file of the pair), the paired ``.py``
   files not in the file browser, ``chapters/`` and ``exercises/`` at its root;
2. a click on the landing page's link opens chapter 02; *Run All Cells* runs it without an error, and
   dragging the margin slider of its explorer cell redraws the figure;
3. a click on the chapter's link opens its exercise notebook; with a wrong answer typed into the exercise
   cell (the sum instead of the mean), *Run All Cells* stops at the check cell, which shows the hint for
   that mistake and no traceback.

The port, the token and the loopback address come from a Jupyter configuration folder of the test's own
(``JUPYTER_CONFIG_DIR``), never from the command line; the book's own JupyterLab settings are the ones
the install put into this environment (``jupyter-config/``, see pyproject.toml).

Screenshots of each step are written to ``MARGIN_LOSSES_SCREENSHOTS`` (a folder; default: the test's
tmp_path) and their paths printed. Every wait is bounded, the server is always shut down, and any
request the page makes beyond loopback is refused and fails the test (the browser's half of the
offline guarantee).

The browser is Debian's ``chromium`` (``/usr/bin/chromium``; ``MARGIN_LOSSES_CHROMIUM`` picks another
binary), driven by Playwright through ``executable_path``: Playwright's own browser download is never
used. Without Chromium the test is skipped and says why; under ``CI=true`` it fails instead.
"""

import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from utils import book
from utils.interactive import PLAIN_TEXT

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "02_hinge_loss"  # the first loss chapter: a margin slider, and a link to its exercise
EXERCISE = "ex02_hinge_loss"
EXERCISE_FUNCTION = "hinge_loss"  # the first exercise of EXERCISE; its cell is tagged exercise:hinge_loss
WRONG_ANSWER = (  # a student's mistake from the check's catalogue: the sum over the batch, not the mean
    "def hinge_loss(scores, targets, margin=1.0):\n"
    "    return torch.clamp(margin - targets * scores, min=0).sum()\n"
)
MISTAKE = "sum instead of mean"
CHROMIUM = os.environ.get("MARGIN_LOSSES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}
COPIED = ("chapters", "exercises", "jupytext.toml", "README.md", "STUDENTS.md", "REFERENCES.md")

# Upper bounds, in seconds, so that a hung server or browser fails the test instead of stalling CI.
SERVER_START = 90
PAGE_LOAD = 90
KERNEL_IDLE = 90
RUN_ALL = 180
STEP = 30
TOTAL = 600  # the whole browser session, whatever the steps above still allow

# The test's own JupyterLab user settings (not the book's): every cell rendered (JupyterLab 4 otherwise
# renders only the cells near the viewport, and the test reads cells far below it).
LAB_SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"}}

pytestmark = pytest.mark.slow


def _require_browser():
    """Skip without Chromium or Playwright (fail under CI=true, where both must be there)."""
    in_ci = os.environ.get("CI", "").lower() == "true"
    missing = None
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing = (f"Chromium not found at {CHROMIUM}: the real-browser test needs Debian's chromium "
                   "(`apt-get install -y chromium`, as .ci/run does) or MARGIN_LOSSES_CHROMIUM=/path/to/chromium")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (`pip install -r requirements.txt`)"
    if missing and in_ci:
        pytest.fail(f"{missing}; CI=true, so a missing browser is a failure.", pytrace=False)
    if missing:
        pytest.skip(f"{missing}. Skipped (under CI=true this fails).")


def readme_start_command() -> str:
    """The last command of the README's "Read and run" block: what a student types to start."""
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^## Read and run\n(.*?)(?=^## )", readme, re.S | re.M)
    assert section, "the README has no '## Read and run' section"
    block = re.search(r"```bash\n(.*?)```", section.group(1), re.S)
    assert block, "the README's 'Read and run' section has no bash block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    return [c for c in commands if c][-1]


def test_the_readme_starts_jupyterlab_from_the_book_folder():
    assert readme_start_command() == "jupyter lab"
    for doc in ("STUDENTS.md", "INSTRUCTORS.md"):
        text = (ROOT / doc).read_text()
        assert "```bash\njupyter lab\n```" in text or "\njupyter lab\n```" in text, f"{doc} starts differently"
        assert "jupyter lab chapters" not in text


def _installed_config_problems() -> list[str]:
    """The book's JupyterLab configuration, as the install puts it into this environment."""
    problems = []
    shipped = {
        ROOT / "jupyter-config" / "jupyter_lab_config.json": Path(sys.prefix, "etc", "jupyter", "jupyter_lab_config.json"),
        ROOT / "jupyter-config" / "lab" / "settings" / "overrides.d" / "margin-losses.json":
            Path(sys.prefix, "share", "jupyter", "lab", "settings", "overrides.d", "margin-losses.json"),
    }
    for source, installed in shipped.items():
        if not installed.exists() or json.loads(installed.read_text()) != json.loads(source.read_text()):
            problems.append(f"{installed} is missing or differs from {source.relative_to(ROOT)}")
    return problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status


class Lab:
    """JupyterLab started with the README's command in a copy of the book, on loopback."""

    def __init__(self, base: Path):
        self.base = base
        self.book = base / "margin-losses"
        self.book.mkdir()
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, self.book / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            elif source.exists():
                shutil.copy2(source, self.book / name)
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = base / "jupyter-config"  # the test's own: address, port, token, no browser
        self.config.mkdir()
        (self.config / "jupyter_server_config.json").write_text(json.dumps({
            "ServerApp": {"ip": "127.0.0.1", "port": self.port, "port_retries": 0, "open_browser": False},
            "IdentityProvider": {"token": self.token},
        }))
        for relative, values in LAB_SETTINGS.items():
            path = base / "lab-settings" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.log = base / "jupyterlab.log"
        self.process = None
        self.command = shlex.split(readme_start_command())

    def start(self) -> str:
        """Start the server; returns the URL it prints for the browser (token included)."""
        env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_TOKEN", "JUPYTER_PORT")}
        env.update(
            PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),  # this venv's jupyter
            JUPYTER_CONFIG_DIR=str(self.config),  # no user config from a laptop leaks in
            JUPYTER_DATA_DIR=str(self.base / "jupyter-data"),  # kernel "python3": this venv's ipykernel
            JUPYTER_RUNTIME_DIR=str(self.base / "jupyter-runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(self.base / "lab-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.base / "lab-workspaces"),
        )
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.command, env=env, cwd=self.book, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + SERVER_START
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"`{' '.join(self.command)}` exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                if _get(f"{self.url}/api/status?token={self.token}", timeout=2) == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"JupyterLab did not answer within {SERVER_START} s:\n{self.log_tail()}")
        printed = re.findall(rf"(http://127\.0\.0\.1:{self.port}/\S*\?token=)\S+", self.log.read_text(errors="replace"))
        assert printed, f"the server printed no URL to open:\n{self.log_tail()}"
        return printed[-1] + self.token

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        # The server's own shutdown also shuts down the kernels it started; then make sure it is gone.
        try:
            request = urllib.request.Request(f"{self.url}/api/shutdown?token={self.token}", method="POST")
            urllib.request.urlopen(request, timeout=5).close()
            self.process.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


@pytest.fixture
def lab(tmp_path):
    """A Lab, not yet started (the test first checks for Chromium), always stopped afterwards."""
    server = Lab(tmp_path)
    try:
        yield server
    finally:
        server.stop()


class Deadline:
    """Timeouts in milliseconds for Playwright, each step bounded and all of them together too."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def ms(self, step_seconds: float) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the browser test ran out of its overall time budget")
        return 1000 * min(step_seconds, left)


# JavaScript run in the page -----------------------------------------------------------------------

PROMPTS = """panel => [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
  .map(p => p.textContent.trim())"""

RUN_FINISHED = """panel => {
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
  return prompts.length > 0 && !prompts.some(p => p.includes('*')) && prompts.some(p => /\\[\\d+\\]/.test(p));
}"""

ERRORS = """panel => [...panel.querySelectorAll('.jp-OutputArea-output')]
  .map(o => o.innerText).filter(t => t.includes('Traceback'))"""

LINK = """([panel, path]) => {
  const links = [...panel.querySelectorAll('.jp-RenderedMarkdown a[href]')];
  const link = links.find(a => decodeURIComponent(new URL(a.href, location.href).pathname).endsWith('/' + path));
  if (!link) return false;
  link.setAttribute('data-test-link', path);
  return true;
}"""

IMAGE_SOURCE = """cell => { const img = cell.querySelector('.jp-OutputArea-output img');
  return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('src') : null; }"""

LISTING = """() => [...document.querySelectorAll('.jp-DirListing-item .jp-DirListing-itemText')]
  .map(e => e.textContent.trim())"""


def _menu(page, menu: str, item: str, deadline: Deadline):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click(timeout=deadline.ms(STEP))
    label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))
    page.locator(".lm-Menu-item:visible").filter(has=label).click(timeout=deadline.ms(STEP))


def _current_tab(page):
    return page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")


def _wait_for_notebook(page, name: str, deadline: Deadline):
    """The notebook ``name`` is the current tab, its cells shown and its kernel idle; returns its panel."""
    _current_tab(page).filter(has_text=name).wait_for(timeout=deadline.ms(PAGE_LOAD))
    panel = page.locator(".jp-NotebookPanel:visible")
    panel.locator(".jp-Cell").first.wait_for(timeout=deadline.ms(PAGE_LOAD))
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\| Idle")).first.wait_for(timeout=deadline.ms(KERNEL_IDLE))
    return panel


def _assert_clean(page, name: str):
    """No "modified" mark on the tab: the stored notebook is what JupyterLab would write (tests/test_clean_open.py).
    JupyterLab writes the kernel's Python version into the notebook, so this holds on the reference Python."""
    if sys.version.split()[0] != book.REFERENCE_PYTHON:
        print(f"  (Python {sys.version.split()[0]} is not the reference {book.REFERENCE_PYTHON}: "
              f"{name} may show as modified once its kernel starts; not asserted)")
        return
    page.wait_for_timeout(1000)  # JupyterLab copies the kernel's language_info just after it connects
    assert _current_tab(page).filter(has_text=name).evaluate("t => t.classList.contains('jp-mod-dirty')") is False, \
        f"{name} opens marked as modified"


def _click_link(page, panel, path: str, deadline: Deadline):
    """Click the rendered Markdown link to ``path`` (as written in the notebook, relative or not)."""
    found = page.evaluate(LINK, [panel.element_handle(), path])
    assert found, f"no Markdown link to {path} in the open notebook"
    link = panel.locator(f"a[data-test-link='{path}']")
    link.scroll_into_view_if_needed(timeout=deadline.ms(STEP))
    link.click(timeout=deadline.ms(STEP))


def _stored_code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def _explorer_index(path: Path) -> int:
    """The position, among code cells, of the chapter's explorer cell (utils.interactive.explore)."""
    for i, cell in enumerate(_stored_code_cells(path)):
        for output in cell.get("outputs", []):
            if PLAIN_TEXT in "".join(output.get("data", {}).get("text/plain", "")):
                return i
    raise AssertionError(f"{path.name} has no explorer cell (utils.interactive.explore) in its stored outputs")


def _tagged_index(path: Path, tag: str) -> int:
    for i, cell in enumerate(_stored_code_cells(path)):
        if tag in cell.get("metadata", {}).get("tags", []):
            return i
    raise AssertionError(f"{path.name} has no code cell tagged {tag}")


def _hint(name: str, mistake: str) -> str:
    from utils import checks

    exercise = checks.registry()[name]
    hints = [m.hint for m in exercise.mistakes if m.name == mistake]
    assert hints, f"the check of {name} has no catalogued mistake {mistake!r}"
    return hints[0]


def _normal(text: str) -> str:
    return " ".join(text.split())


def test_a_student_goes_from_the_landing_page_to_a_chapter_and_its_exercise(lab, tmp_path):
    _require_browser()
    problems = _installed_config_problems()
    assert not problems, ("the book's JupyterLab configuration is not installed in this environment "
                          "(`pip install -r requirements.txt` installs it): " + "; ".join(problems))
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("MARGIN_LOSSES_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    chapter_ipynb = lab.book / "chapters" / f"{CHAPTER}.ipynb"
    exercise_ipynb = lab.book / "exercises" / f"{EXERCISE}.ipynb"
    explorer = _explorer_index(chapter_ipynb)
    exercise_cell = _tagged_index(exercise_ipynb, f"exercise:{EXERCISE_FUNCTION}")
    check_cell = _tagged_index(exercise_ipynb, f"check:{EXERCISE_FUNCTION}")
    hint = _hint(EXERCISE_FUNCTION, MISTAKE)
    started = time.monotonic()

    def lap(what):
        print(f"{time.monotonic() - started:6.1f} s  {what}")

    def shot(name):
        page.wait_for_timeout(300)
        page.screenshot(path=shots / name)
        lap(f"screenshot {shots / name}")

    url = lab.start()
    lap(f"`{' '.join(lab.command)}` answers; it prints {url.split('?')[0]}")
    assert url.split("?")[0].endswith("/lab/tree/chapters/00_index.ipynb"), url

    deadline = Deadline(TOTAL)
    beyond_loopback, page_errors = [], []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a new, empty user data dir
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True, viewport=VIEWPORT,
            timeout=deadline.ms(STEP),
        )
        try:
            page = context.new_page()
            page.set_default_timeout(deadline.ms(STEP))

            def only_loopback(route):
                if route.request.url.startswith((lab.url + "/", "data:", "blob:")):
                    route.continue_()
                else:
                    beyond_loopback.append(route.request.url)
                    route.abort()

            page.route("**/*", only_loopback)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            try:
                # 1. The printed URL opens the landing notebook: clean, no news pop-up, no .py twins.
                page.goto(url, timeout=deadline.ms(PAGE_LOAD))
                landing = _wait_for_notebook(page, "00_index.ipynb", deadline)
                _assert_clean(page, "00_index.ipynb")
                assert page.get_by_text(re.compile("Jupyter news", re.I)).count() == 0, "JupyterLab's news pop-up"
                listing = page.evaluate(LISTING)
                assert "00_index.ipynb" in listing and f"{CHAPTER}.ipynb" in listing, listing
                assert not [n for n in listing if n.endswith(".py")], f"paired .py files in the file browser: {listing}"
                shot("1_landing_page.png")
                if sys.version.split()[0] == book.REFERENCE_PYTHON:
                    # File > Save of the unchanged notebook: both files of the pair stay byte-identical.
                    pair = [lab.book / "chapters" / f"00_index{suffix}" for suffix in (".ipynb", ".py")]
                    stored = [p.read_bytes() for p in pair]
                    stamp = pair[0].stat().st_mtime_ns
                    _menu(page, "File", "Save Notebook", deadline)
                    until = time.monotonic() + STEP
                    # Wait through Playwright, never time.sleep: the page's requests pass through
                    # only_loopback, which the sync API runs only while a Playwright call is waiting.
                    while pair[0].stat().st_mtime_ns == stamp and time.monotonic() < until:
                        page.wait_for_timeout(200)
                    assert pair[0].stat().st_mtime_ns != stamp, f"File > Save Notebook: no save within {STEP} s"
                    page.wait_for_timeout(500)  # a save writes both files of the pair
                    assert [p.read_bytes() for p in pair] == stored, "saving the unchanged 00_index rewrote it"
                    lap("File > Save of the unchanged landing notebook rewrote nothing")
                page.locator(".jp-BreadCrumbs-home").first.click()  # the file browser's root: the book's folder
                page.locator(".jp-DirListing-item", has_text="exercises").first.wait_for(timeout=deadline.ms(STEP))
                root = page.evaluate(LISTING)
                assert {"chapters", "exercises"} <= set(root), root
                lap("00_index open and clean; chapters/ and exercises/ at the file browser's root")

                # 2. The landing page's link opens the chapter; Run All; drag the margin slider.
                _click_link(page, landing, f"chapters/{CHAPTER}.ipynb", deadline)
                chapter = _wait_for_notebook(page, f"{CHAPTER}.ipynb", deadline)
                _assert_clean(page, f"{CHAPTER}.ipynb")
                _menu(page, "Run", "Run All Cells", deadline)
                page.wait_for_function(RUN_FINISHED, arg=chapter.element_handle(), timeout=deadline.ms(RUN_ALL))
                errors = chapter.evaluate(ERRORS)
                assert not errors, f"a cell of {CHAPTER} shows an error:\n{errors[0][-2000:]}"
                prompts = chapter.evaluate(PROMPTS)
                assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), f"not every cell ran: {prompts}"
                lap(f"{CHAPTER}: Run All Cells finished")
                cell = chapter.locator(".jp-CodeCell").nth(explorer)
                slider = cell.locator(".widget-slider").first
                slider.wait_for(timeout=deadline.ms(STEP))
                handle = cell.locator(".noUi-handle").first
                handle.scroll_into_view_if_needed()
                page.wait_for_function(IMAGE_SOURCE, arg=cell.element_handle(), timeout=deadline.ms(STEP))
                before = cell.evaluate(IMAGE_SOURCE)
                readout = cell.locator(".widget-readout").first
                value_before = readout.inner_text() if readout.count() else None
                shot("2_chapter_slider_before.png")
                box = handle.bounding_box()
                track = slider.bounding_box()
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.mouse.down()
                page.mouse.move(box["x"] + box["width"] / 2 + track["width"] / 4, box["y"] + box["height"] / 2, steps=8)
                page.mouse.up()
                page.wait_for_function(
                    """([cell, before]) => { const img = cell.querySelector('.jp-OutputArea-output img');
                       return img && img.complete && img.naturalWidth > 0 && img.getAttribute('src') !== before; }""",
                    arg=[cell.element_handle(), before], timeout=deadline.ms(STEP),
                )
                if value_before is not None:
                    assert readout.inner_text() != value_before, "the slider's value did not change"
                shot("3_chapter_slider_after.png")
                lap(f"slider moved ({value_before} -> {readout.inner_text() if value_before else '?'}), figure redrawn")

                # 3. The chapter's link opens its exercise; a wrong answer; the check speaks plainly.
                _click_link(page, chapter, f"exercises/{EXERCISE}.ipynb", deadline)
                exercise = _wait_for_notebook(page, f"{EXERCISE}.ipynb", deadline)
                _assert_clean(page, f"{EXERCISE}.ipynb")
                shot("4_exercise_open.png")
                editor = exercise.locator(".jp-CodeCell").nth(exercise_cell).locator(".cm-content")
                editor.scroll_into_view_if_needed()
                editor.click()
                page.keyboard.press("ControlOrMeta+a")
                page.keyboard.insert_text(WRONG_ANSWER)
                page.keyboard.press("Escape")
                _menu(page, "Run", "Run All Cells", deadline)
                page.wait_for_function(RUN_FINISHED, arg=exercise.element_handle(), timeout=deadline.ms(RUN_ALL))
                page.wait_for_timeout(1000)  # cells queued after the failure are cleared
                check = exercise.locator(".jp-CodeCell").nth(check_cell)
                check.scroll_into_view_if_needed()
                shown = check.locator(".jp-OutputArea").inner_text()
                shot("5_exercise_wrong_answer_hint.png")
                assert _normal(hint) in _normal(shown), f"the check does not show the hint {hint!r}:\n{shown}"
                assert "Traceback" not in shown and "utils/checks" not in shown, f"the check shows a traceback:\n{shown}"
                after = exercise.evaluate(PROMPTS)[check_cell + 1:]
                assert after and not any(re.search(r"\d", p) for p in after), \
                    f"Run All went on after the failed check (the cell did not count as failed): {after}"
                lap("wrong answer: the check shows the hint, no traceback, and Run All stopped there")
            except BaseException:
                try:
                    page.screenshot(path=shots / "failure.png", timeout=10_000)
                except Exception:  # noqa: BLE001 - the original failure matters, not this one
                    pass
                print(f"screenshots in {shots}; server log:\n{lab.log_tail()}")
                raise
        finally:
            context.close()

    assert not beyond_loopback, f"the page asked for addresses beyond loopback: {beyond_loopback[:5]}"
    assert not page_errors, f"uncaught errors in the page: {page_errors[:3]}"
    print(f"screenshots kept in {shots}")
