"""The offline guarantee: every process the suite starts (each nbval kernel included) runs behind a
guard that refuses any network access beyond loopback, so a notebook that downloaded anything would fail.
The guard is proven here without sending a single packet off the machine."""

import os
import subprocess
import sys

import pytest


# Each probe first asserts the guard is installed, so a missing guard fails the test without any traffic.
GUARDED = "import socket; assert socket.getaddrinfo.__module__ == 'sitecustomize', 'guard missing'\n"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", GUARDED + code], capture_output=True, text=True, timeout=120)


def test_the_suite_runs_processes_behind_the_guard():
    assert os.environ.get("MARGIN_LOSSES_OFFLINE") == "1"
    result = _run("import socket; print(socket.getaddrinfo.__module__)")
    assert result.stdout.strip() == "sitecustomize", result.stderr


@pytest.mark.parametrize(
    "code",
    [
        "import socket; socket.getaddrinfo('example.com', 443)",  # refused before any DNS query
        "import urllib.request; urllib.request.urlopen('https://example.com', timeout=1)",
        "from sklearn.datasets import fetch_openml; fetch_openml('mnist_784', data_home='/nonexistent')",
    ],
)
def test_downloads_are_refused(code):
    result = _run(code)
    assert result.returncode != 0
    assert "refused by the offline guard" in result.stderr, result.stderr[-1500:]


def test_loopback_stays_open():
    code = (
        "import socket\n"
        "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(1)\n"
        "client = socket.create_connection(server.getsockname(), timeout=5)\n"
        "print('connected')\n"
    )
    result = _run(code)
    assert result.stdout.strip() == "connected", result.stderr


@pytest.mark.parametrize(
    "host, allowed",
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.8.9.10", True),
     ("192.0.2.1", False), ("10.0.0.1", False), ("example.com", False), ("pypi.org", False)],
)
def test_guard_decides_by_address_without_connecting(host, allowed):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "offline"))
    try:
        import sitecustomize as guard
    finally:
        sys.path.pop(0)
    if allowed:
        guard._guard_address((host, 80))
    else:
        with pytest.raises(guard.NetworkRefused):
            guard._guard_address((host, 80))
