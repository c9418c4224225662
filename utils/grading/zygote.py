"""The zygote: a warm process (torch imported once) that forks one sandboxed child per grading attempt.

Started by the grader as ``python -I utils/grading/zygote.py REPO_ROOT`` (never imported by the
grader itself). Protocol on its stdin/stdout, one JSON object per line:

* zygote -> grader: ``{"event": "ready"}`` once torch is imported;
* grader -> zygote: a request ``{"workdir", "uid", "gid", "hide", "private_tmp", "mem_bytes",
  "fsize_bytes", "cpu_seconds", "nproc"}``;
* zygote -> grader: ``{"event": "started", "pid"}`` right after the fork, then
  ``{"event": "exited", "pid", "code", "signal", "cpu"}`` when the child is gone (the grader kills it
  on a timeout; the zygote only reaps it). With ``"reap": true`` (a uid of its own per slot), every
  process left with that uid is killed first, so nothing of this child survives into the next one.
  The zygote is the subreaper of its children's orphans.

The child: new session (so the grader can kill its whole process group), stdin/stdout/stderr on
/dev/null and every other inherited descriptor closed (it cannot talk to the zygote's pipes), a
private mount namespace where ``hide`` directories (solutions/, the real check references) are
covered by empty read-only tmpfs and /tmp, /var/tmp, /dev/shm by small private tmpfs (when the
grader runs as root), resource limits, then the unprivileged uid. Only then does it read the job from
its working directory and execute the student's code. Everything the child writes (``progress``,
``result_<i>.pt``) is untrusted data for the grader. Introduced with the grader (issue 7).
"""

from __future__ import annotations

import json
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
sys.path[0] = ROOT  # the repository (for ``utils``), not this script's folder
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import builtins  # noqa: E402
import copy  # noqa: E402
import ctypes  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import traceback  # noqa: E402

import torch  # noqa: E402

torch.set_num_threads(1)  # before any torch op: no thread pool exists when we fork
import utils  # noqa: E402,F401
import utils.checks  # noqa: E402  (the framework only; the per-exercise modules are never imported here)
from utils.checks import Outcome, _call  # noqa: E402

# Modules a student cell may import: loaded now, because after the uid drop the Python installation
# may not be readable (e.g. under /root); in a container it is, and this list only saves time.
PRELOAD = (
    "math cmath random itertools functools collections collections.abc statistics fractions decimal heapq "
    "bisect string re time timeit copy typing dataclasses operator pickle io warnings contextlib textwrap "
    "enum abc numbers array struct hashlib datetime pathlib shutil glob json inspect types weakref "
    "numpy numpy.linalg torch.nn torch.nn.functional torch.autograd torch.linalg torch.testing utils.losses "
    "utils.reproducibility utils.validation"
).split()
for _name in PRELOAD:
    try:
        __import__(_name)
    except Exception:  # an optional module: the student gets an ImportError if they need it
        pass

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 1, 2, 4, 16384, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    if _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                   data.encode() if data else None) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


MS_BIND, MS_MOVE = 4096, 8192


def _blocked_ancestor(path: str) -> str | None:
    """The highest folder above ``path`` that other users cannot traverse (e.g. /root, mode 700)."""
    parts = path.rstrip("/").split("/")
    for i in range(2, len(parts)):
        folder = "/".join(parts[:i])
        try:
            if not os.stat(folder).st_mode & 0o001:
                return folder
        except OSError:
            return None
    return None


def _expose(path: str, stash: str) -> None:
    """Make ``path`` reachable for the unprivileged uid while hiding the rest of its blocked ancestor:
    bind it aside, cover the ancestor (e.g. /root) with an empty tmpfs, move the bind back in place."""
    top = _blocked_ancestor(path)
    if top is None:
        return
    os.mkdir(stash)
    _mount(path, stash, None, MS_BIND | MS_REC, None)
    _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
    os.makedirs(path, exist_ok=True)
    _mount(stash, path, None, MS_MOVE, None)
    os.rmdir(stash)


def _isolate(hide: list[str], private_tmp: bool, workdir: str) -> None:
    """Private mount namespace: hidden folders become empty and read-only, temp folders private."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    for path in hide:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
    needed = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, ROOT)}
    for i, path in enumerate(sorted(needed)):
        _expose(path, os.path.join(workdir, f".expose{i}"))
    if private_tmp:
        for path in ("/tmp", "/var/tmp", "/dev/shm"):
            if not os.path.isdir(path) or os.path.realpath(path) in needed:
                continue
            # The book or its Python may live under a temp folder (a CI checkout in /tmp): keep a handle on
            # each, cover the folder with a private tmpfs, then bind them back at the same paths.
            inside = sorted(p for p in needed if p.startswith(os.path.realpath(path).rstrip("/") + "/"))
            handles = [os.open(p, os.O_RDONLY | os.O_DIRECTORY) for p in inside]
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
            for kept, handle in zip(inside, handles):
                os.makedirs(kept, exist_ok=True)
                _mount(f"/proc/self/fd/{handle}", kept, None, MS_BIND | MS_REC, None)
                os.close(handle)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:500] if text else ''}"


def _plain(value, depth: int = 0):
    """Tensors, numbers, strings and containers of them; anything else becomes a marker string."""
    if depth > 20:
        return "<unserializable: nested too deep>"
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if type(t) is not torch.Tensor:
            t = t.as_subclass(torch.Tensor)
        if t.layout != torch.strided or t.is_quantized or t.device.type != "cpu":
            return f"<unserializable: tensor layout {t.layout} on {t.device}>"
        return t.clone().contiguous()
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):  # numpy.float64 and friends are float subclasses
        return float(value)
    if isinstance(value, (tuple, list)):
        items = [_plain(v, depth + 1) for v in value[:10000]]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (int, str)) else k: _plain(v, depth + 1)
                for k, v in list(value.items())[:10000]}
    return f"<unserializable: {type(value).__name__}>"


def _strip_magics(source: str) -> str:
    """IPython magics and shell escapes are not Python: line magics become comments, cell magics drop the cell."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def _no_check(*args, **kwargs) -> None:
    """``check(...)`` at grading: nothing (the grader's hidden cases replace the student's check)."""


def _forbidden_kwargs(ex: dict) -> dict:
    """``forbidden=`` (and the function's name, for the message) for ``_call`` when the exercise declares
    forbidden callables (dotted names) and ``_call`` accepts them."""
    names = tuple(ex.get("forbidden") or ())
    if not names or "forbidden" not in _CALL_PARAMETERS:
        return {}
    extra = {"function": ex["function"]} if "function" in _CALL_PARAMETERS else {}
    return {"forbidden": names, **extra}


def _parameters(fn) -> set[str]:
    import inspect

    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


_CALL_PARAMETERS = _parameters(_call)


def run_job() -> None:
    """Executed in the sandboxed child, in its working directory (relative paths only).

    Runs the pristine setup cell, then every code cell of the student's notebook in order (the job
    lists them; check cells are not among them), writing ``cell <index>`` to ``progress`` before each;
    a cell's exception is recorded in ``cells.pt`` and the next cell runs. Then, per exercise, the
    student's function is called through :func:`utils.checks._call` on each hidden case; for an
    exercise with a speed case, the child stops itself (SIGSTOP) right before and right after that one
    call, so the grader can read its CPU time from outside (``/proc/<pid>/stat``) and resume it.
    """
    save, plain, call, describe, write = torch.save, _plain, _call, _describe, os.write
    kill, getpid, replace, stop = os.kill, os.getpid, os.replace, signal.SIGSTOP
    with open("job.json", encoding="utf-8") as f:
        job = json.load(f)
    cases = [torch.load(f"cases_{i}.pt", weights_only=True) for i in range(len(job["exercises"]))]
    speed_cases = {i: torch.load(f"speed_{i}.pt", weights_only=True)
                   for i, ex in enumerate(job["exercises"]) if ex.get("speed")}
    progress = os.open("progress", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def mark(text: str) -> None:
        write(progress, (text + "\n").encode())

    utils.checks.check = _no_check  # before the setup cell's `from utils.checks import check`
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    mark("setup")
    exec(compile(job["setup"], "<setup cell>", "exec"), namespace)  # the pristine imports: trusted
    cell_errors: dict[int, str] = {}
    for cell in job["cells"]:
        mark(f"cell {cell['index']}")
        try:
            exec(compile(_strip_magics(cell["source"]), f"<cell {cell['index']}>", "exec"), namespace)
        except BaseException as exc:  # reported in the feedback; the next cell runs
            cell_errors[int(cell["index"])] = describe(exc)
    save(cell_errors, "cells.tmp")
    replace("cells.tmp", "cells.pt")

    def outcome_of(fn, case, ex) -> dict:
        try:
            outcome = call(fn, copy.deepcopy(case), tuple(ex["grad_inputs"]), **_forbidden_kwargs(ex))
        except BaseException as exc:  # SystemExit, KeyboardInterrupt... are data too
            outcome = Outcome(error=describe(exc))
        try:
            return {"value": plain(outcome.value),
                    "grads": {str(k): plain(v) for k, v in dict(outcome.grads).items()},
                    "error": None if outcome.error is None else str(outcome.error)[:1000],
                    "seconds": float(outcome.seconds)}
        except BaseException as exc:
            return {"value": None, "grads": {}, "error": describe(exc), "seconds": 0.0}

    for i, ex in enumerate(job["exercises"]):
        mark("run " + ex["name"])
        fn = namespace.get(ex["function"]) if isinstance(namespace, dict) else None
        if not callable(fn):
            result = {"missing": True}
        else:
            result = {"outcomes": [outcome_of(fn, case, ex) for case in cases[i]]}
            if i in speed_cases:
                mark("speed " + ex["name"])
                kill(getpid(), stop)  # the grader reads our CPU time, then resumes us
                timed = outcome_of(fn, speed_cases[i], ex)
                mark("spent " + ex["name"])
                kill(getpid(), stop)
                result["speed"] = timed
        save(result, f"result_{i}.tmp")
        replace(f"result_{i}.tmp", f"result_{i}.pt")
        mark("done " + ex["name"])


def _vm_bytes() -> int:
    """This process's current address space (the cap is on top of what torch already mapped)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def child(request: dict) -> None:
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    workdir = os.open(request["workdir"], os.O_RDONLY | os.O_DIRECTORY)
    keep = sorted({0, 1, 2, workdir})
    for low, high in zip(keep, keep[1:] + [os.sysconf("SC_OPEN_MAX")]):
        os.closerange(low + 1, high)  # the zygote's pipes included: the child cannot talk to it
    if request.get("hide") is not None:
        _isolate(request["hide"], request.get("private_tmp", False), request["workdir"])
    os.fchdir(workdir)  # still valid when /tmp is covered by a private tmpfs
    os.close(workdir)
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_AS, _vm_bytes() + request["mem_bytes"]),
              (resource.RLIMIT_FSIZE, request["fsize_bytes"]), (resource.RLIMIT_CPU, request["cpu_seconds"])]
    if request.get("nproc"):
        limits.append((resource.RLIMIT_NPROC, request["nproc"]))
    for which, value in limits:
        resource.setrlimit(which, (value, value))
    if request.get("uid") is not None:
        os.setgroups([])
        os.setgid(request["gid"])
        os.setuid(request["uid"])
    home = "/tmp" if request.get("private_tmp") else os.getcwd()
    os.environ.update(HOME=home, TMPDIR=home, MPLCONFIGDIR=home)
    tempfile.tempdir = None
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    run_job()


PR_SET_CHILD_SUBREAPER = 36


def _uid_processes(uid: int) -> list[int]:
    """Live processes whose real, effective or saved uid is ``uid`` (read from /proc/<pid>/status: the
    owner of /proc/<pid> itself is root for a process that changed uid)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except (OSError, ValueError):
            continue
        uids = fields.get("Uid", "").split()[:3]
        if str(uid) in uids and not fields.get("State", "").strip().startswith(("Z", "X")):
            found.append(int(entry.name))
    return found


def _reap_uid(uid: int, gid: int, seconds: float = 5.0) -> None:
    """Kill every process left with the slot's uid (a child that escaped its session, a daemon), so the
    next child of this slot starts alone. The zygote (root) sends the SIGKILLs itself, round after round
    until no live process has that uid: a process of that uid cannot signal the zygote back, and a
    process killed between two rounds cannot fork any more. The dead are then reaped (we are their
    subreaper)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = _uid_processes(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _reap_orphans()
        time.sleep(0.002)


def _reap_orphans(wait_seconds: float = 0.0) -> None:
    """Collect dead children (orphans of the sandbox are re-parented here: we are their subreaper). After
    a uid was reaped every child left is dying: wait up to ``wait_seconds`` for them, so that no zombie
    keeps the slot's uid in use once the zygote exits."""
    import time

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() >= deadline:
                return
            time.sleep(0.005)


def main() -> None:
    out = sys.stdout

    def send(message: dict) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    send({"event": "ready"})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                child(request)
                code = 0
            except BaseException:
                try:
                    with open("worker_error.txt", "w") as f:  # for the grader's own debugging
                        traceback.print_exc(file=f)
                except BaseException:
                    pass
                code = 70
            os._exit(code)
        send({"event": "started", "pid": pid})
        _, status, usage = os.wait4(pid, 0)
        uid = request.get("uid")
        reap = uid is not None and uid != 0 and bool(request.get("reap"))
        if reap:
            _reap_uid(uid, request["gid"])
        _reap_orphans(2.0 if reap else 0.0)
        send({"event": "exited", "pid": pid,
              "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
              "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
              "cpu": usage.ru_utime + usage.ru_stime})


if __name__ == "__main__":
    main()
