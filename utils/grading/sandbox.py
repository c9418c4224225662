"""The grader's side of the sandbox: a warm zygote per parallel slot, limits, and safe reading of results.

A cold ``import torch`` costs seconds here, so each slot keeps one zygote (``zygote.py``) that imported
torch once and forks a fresh child per grading attempt. The grader enforces every timeout itself
(killing the child's process group), and reads what the child wrote with :func:`read_untrusted`: no
symlinks, no FIFOs, a size cap. Introduced with the grader (issue 7).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ZYGOTE = Path(__file__).resolve().parent / "zygote.py"


@dataclass
class Limits:
    """Per-child resource limits (bytes and seconds)."""

    memory_mb: int = 3072  # on top of the zygote's own address space (torch maps a lot)
    file_mb: int = 64
    nproc: int = 256
    cpu_seconds: int = 600


@dataclass
class Isolation:
    """What the child cannot see or touch (applied only where the OS allows: root on Linux).

    ``uids``: one unprivileged uid per parallel slot (issue 13), so that a child cannot signal, trace or
    read the files of a child in another slot (``os.kill(-1, SIGKILL)`` reaches only its own uid), and
    after each attempt every process left with that uid is killed before the next child starts.
    The uids are unused (no passwd entry, no process) and reserved for the run with a lock file, so two
    grading runs on one machine never share one. ``uid``: the fallback for a single slot (``nobody``).
    """

    uid: int | None = None
    gid: int | None = None
    hide: list[str] = field(default_factory=list)
    private_tmp: bool = False
    namespaces: bool = False
    uids: list[int] = field(default_factory=list)
    _locks: list = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def detect(cls, hide: list[Path], slots: int = 1) -> "Isolation":
        """As root: one reserved unused uid per slot (``nobody`` if none can be reserved) and a private
        mount namespace if unshare works. Not root: nothing (run the grader in a container, README)."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return cls()
        import pwd

        try:
            entry = pwd.getpwnam("nobody")
            uid, gid = entry.pw_uid, entry.pw_gid
        except KeyError:
            uid = gid = 65534
        namespaces = subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0 \
            if _which("unshare") else False
        iso = cls(uid=uid, gid=gid, hide=[str(p) for p in hide if p.is_dir()], private_tmp=namespaces,
                  namespaces=namespaces)
        iso.uids, iso._locks = reserve_uids(max(1, slots))
        return iso

    def slot_ids(self, slot: int) -> tuple[int | None, int | None]:
        """(uid, gid) of the children of parallel slot ``slot`` (0-based)."""
        if self.uids:
            uid = self.uids[slot % len(self.uids)]
            return uid, uid
        return self.uid, self.gid

    def release(self) -> None:
        """Give the reserved uids back (closing the lock files)."""
        for handle in self._locks:
            try:
                os.close(handle)
            except OSError:
                pass
        self._locks.clear()

    def describe(self) -> str:
        if self.uids:
            parts = [f"uids {', '.join(map(str, self.uids))} (one per slot)"]
        else:
            parts = [f"uid {self.uid}" if self.uid is not None else "same uid (not root)"]
        parts.append("private mount namespace" if self.namespaces else "no mount namespace")
        return ", ".join(parts)


UID_BASE, UID_SPAN = 61000, 2000
LOCK_DIR = Path("/run/lock") if Path("/run/lock").is_dir() else Path("/var/lock")


def _uids_in_use() -> set[int]:
    """Every uid with a passwd entry or a running process."""
    import pwd

    used = {entry.pw_uid for entry in pwd.getpwall()}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:  # not the owner of /proc/<pid>: root's for a process that changed uid
                with open(f"/proc/{entry.name}/status") as f:
                    line = next((x for x in f if x.startswith("Uid:")), "")
                used.update(int(u) for u in line.split()[1:])
            except (OSError, ValueError):
                pass
    return used


def reserve_uids(n: int) -> tuple[list[int], list[int]]:
    """Reserve ``n`` unused uids from ``UID_BASE`` on; returns (uids, lock descriptors to keep open).

    A uid is taken when its lock file (``LOCK_DIR/margin-grade-uid-<uid>.lock``) can be locked
    exclusively (``flock``; released when the descriptor closes, even if the grader is killed).
    Returns ([], []) if the lock folder is unusable (the caller falls back to ``nobody``).
    """
    import fcntl
    import grp

    try:
        used = _uids_in_use() | {g.gr_gid for g in grp.getgrall()}
    except OSError:
        return [], []
    uids, locks = [], []
    for uid in range(UID_BASE, UID_BASE + UID_SPAN):
        if len(uids) == n:
            break
        if uid in used:
            continue
        try:
            fd = os.open(LOCK_DIR / f"margin-grade-uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        uids.append(uid)
        locks.append(fd)
    if len(uids) < n:
        for fd in locks:
            os.close(fd)
        return [], []
    return uids, locks


def _which(name: str) -> bool:
    from shutil import which

    return which(name) is not None


class ZygoteDied(RuntimeError):
    pass


class Zygote:
    """One warm process; :meth:`run` forks a child for one job and enforces the timeouts."""

    def __init__(self, python: str = sys.executable):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            [python, "-I", str(ZYGOTE), str(ROOT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env, cwd="/",
        )
        self._buffer = b""
        self.ready_seconds: float | None = None

    def wait_ready(self, timeout: float = 300.0) -> None:
        message = self._read(time.monotonic() + timeout)
        if message is None or message.get("event") != "ready":
            raise ZygoteDied(f"the zygote did not start: {message}")
        self.ready_seconds = time.perf_counter() - self.started_at

    def _read(self, deadline: float) -> dict | None:
        """The next JSON line, or None when the deadline passes. Raises ZygoteDied on EOF."""
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(left, 0.05))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise ZygoteDied("the zygote exited")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def poll(self, seconds: float) -> dict | None:
        return self._read(time.monotonic() + seconds)

    def start(self, request: dict) -> int:
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()
        message = self._read(time.monotonic() + 30)
        if message is None or message.get("event") != "started":
            raise ZygoteDied(f"no child started: {message}")
        return int(message["pid"])

    def close(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def kill_group(pid: int) -> None:
    """SIGKILL the child's whole session (it called setsid, so its pgid is its pid)."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def read_untrusted(path: Path, cap: int, *, tail: bool = False) -> bytes | None:
    """A regular file's bytes (at most ``cap``; the last ``cap`` if ``tail``), never following a link.

    Returns None when the file is missing, not a regular file, or (without ``tail``) larger than ``cap``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        import stat

        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > cap:
            if not tail:
                return None
            os.lseek(fd, info.st_size - cap, os.SEEK_SET)
        chunks, left = [], cap
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
