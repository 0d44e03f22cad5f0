"""The one place trainsync touches private parts of botocore and urllib3: it makes a client's
connection pools report each socket they open, so that a cancel can shut down the sockets
that threads are blocked reading.

Why no public way does this: a thread blocked in recv() (a server that accepted a request
and never answers) or in connect() (a host that drops packets) wakes only when its socket
is shut down. botocore hands out no socket and takes no HTTP session or connection class
from its caller; `client.close()` closes only the idle connections of the pools, never one
a thread is using; timeouts end a wait only when they expire. Sending each request
ourselves from a before-send hook would copy botocore's URLLib3Session (its TLS, proxy and
error handling) and still need a socket from urllib3's private _new_conn; a process-wide
audit hook on socket creation cannot be removed and sees every socket of the process. So
the pools' connection class is swapped for one that reports its sockets, which takes the
three names below. A
test (tests/engine/test_botocore_sockets.py) fails, naming the one that moved and the
versions installed, on the day a release moves one. Until this module follows, syncs go on
and say why a cancel is slower: it waits for read_timeout (or connect_timeout), as before
trainsync shut sockets down.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

Opened = Callable[[socket.socket], None]

# The private names, where they are read (see missing()).
ENDPOINT = "botocore BaseClient._endpoint"
POOL_CLASSES = "botocore URLLib3Session._pool_classes_by_scheme"
NEW_CONN = "urllib3 HTTPConnection._new_conn"

_log = logging.getLogger(__name__)
_warned: set[str] = set()


def versions() -> str:
    return ", ".join(f"{name} {version(name)}" for name in ("botocore", "urllib3"))


def missing(client: Any) -> list[str]:
    """The private names this module needs that `client` (or urllib3) does not have."""
    from urllib3.connection import HTTPConnection

    gone = []
    endpoint = getattr(client, "_endpoint", None)
    if endpoint is None:
        gone.append(ENDPOINT)
    elif not isinstance(getattr(endpoint.http_session, "_pool_classes_by_scheme", None), dict):
        gone.append(POOL_CLASSES)
    if not callable(getattr(HTTPConnection, "_new_conn", None)):
        gone.append(NEW_CONN)
    return gone


def track_sockets(client: Any, opened: Opened) -> bool:
    """Make `client`'s pools, from now on, call `opened` with each socket they open: before
    it connects, and for TLS again with the socket that wraps it. False if this botocore no
    longer lets us at its pools; a warning, once, for each name not found."""
    gone = missing(client)
    if gone:
        message = f"a cancel waits for a timeout: {', '.join(gone)} not found ({versions()})"
        if message not in _warned:
            _warned.add(message)
            _log.warning(message)
    if ENDPOINT in gone or POOL_CLASSES in gone:
        return False
    # URLLib3Session hands this dict to its pool managers (and proxy managers): pools made
    # from now on use connection classes that report their sockets (only once connected,
    # if urllib3 no longer opens them in _new_conn).
    pools = client._endpoint.http_session._pool_classes_by_scheme
    for scheme, pool in list(pools.items()):
        pools[scheme] = type(pool.__name__, (pool,), {"ConnectionCls": _reporting(pool, opened)})
    return True


def _reporting(pool: Any, opened: Opened) -> type:
    class Reporting(pool.ConnectionCls):  # type: ignore[name-defined,misc]
        def _new_conn(self) -> socket.socket:
            return _new_connection(self, opened)

        def connect(self) -> None:
            super().connect()
            opened(self.sock)  # for TLS, the socket that wraps the first one

    return Reporting


def _new_connection(conn: Any, opened: Opened) -> socket.socket:
    """urllib3's HTTPConnection._new_conn and create_connection, through the connection's
    public attributes, except that the socket is reported before it connects: a cancel
    then interrupts a connect to a host that drops packets (shutdown() wakes connect() at
    once; close() would not)."""
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
    from urllib3.util.connection import allowed_gai_family

    error: OSError | None = None
    timeout = conn.timeout
    try:
        for family, kind, proto, _name, address in socket.getaddrinfo(
            conn.host.strip("[]"), conn.port, allowed_gai_family(), socket.SOCK_STREAM
        ):
            sock = socket.socket(family, kind, proto)
            try:
                for option in conn.socket_options or ():
                    sock.setsockopt(*option)
                # urllib3's "default" sentinel (neither a number nor None) leaves the
                # socket's default timeout, as create_connection does.
                if timeout is None or isinstance(timeout, int | float):
                    sock.settimeout(timeout)
                if conn.source_address:
                    sock.bind(conn.source_address)
                opened(sock)
                sock.connect(address)
                sys.audit("http.client.connect", conn, conn.host, conn.port)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        raise error or OSError("getaddrinfo returns an empty list")
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    except TimeoutError as exc:
        raise ConnectTimeoutError(
            conn, f"Connection to {conn.host} timed out. (connect timeout={timeout})"
        ) from exc
    except OSError as exc:
        raise NewConnectionError(conn, f"Failed to establish a new connection: {exc}") from exc
