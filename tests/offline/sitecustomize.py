"""Network guard for every Python process the test suite starts (notebook kernels included).

conftest.py puts this folder on PYTHONPATH and sets MARGIN_LOSSES_OFFLINE=1, so each kernel that
nbval starts imports this module at start-up: any connection or name lookup beyond loopback raises
instead of leaving the machine. That is how the suite proves that no notebook downloads anything.
"""

import ipaddress
import os
import socket

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class NetworkRefused(OSError):
    """Raised instead of any network access beyond loopback."""


def _is_loopback(host) -> bool:
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a name other than localhost: refused without being resolved


def _guard_address(address):
    if isinstance(address, tuple) and address and not _is_loopback(address[0]):
        raise NetworkRefused(f"network access refused by the offline guard: {address[0]!r} is not loopback")


def install():
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        _guard_address(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        _guard_address(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            raise NetworkRefused(f"name lookup refused by the offline guard: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo


if os.environ.get("MARGIN_LOSSES_OFFLINE") == "1":
    install()
