"""Loopback ports for the servers a test starts."""

import socket


def free_port() -> int:
    """Return a loopback port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
