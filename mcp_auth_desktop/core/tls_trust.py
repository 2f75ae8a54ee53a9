"""The one TLS context the app's HTTP clients share, its trust anchors read on first use.

httpx builds a verifying ``ssl.SSLContext`` whenever a transport is made: certifi's CA
bundle (or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``) parsed into OpenSSL's store, some
1.4 MiB resident in the desktop app (bench/bench_gui.py), at start, though the first
request may come minutes later and a loopback server is reached over plain http.
:func:`shared_trust_context` gives every client made by :func:`.http.make_http_client`
one :class:`LazyTrustContext` instead (per trust source: the environment is read when
the client is made, as httpx reads it), which verifies exactly as httpx's default does
(``CERT_REQUIRED``, the host name checked, the same anchors) and reads its anchors the
first time a TLS connection is set up with it.

It fails closed: until the anchors are read the store is empty, so a handshake could
verify nothing; and a trust store that cannot be read stops the connection with a
:class:`~.errors.TlsError` naming it, every time it is tried, never a connection
without it.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from typing import Any

from .errors import TlsError

__all__ = ["LazyTrustContext", "shared_trust_context"]

_lock = threading.Lock()
#: One context per trust source (``SSL_CERT_FILE``, ``SSL_CERT_DIR`` or certifi's bundle).
_shared: dict[tuple[str | None, str | None], LazyTrustContext] = {}


class LazyTrustContext(ssl.SSLContext):
    """A client context (``ssl.create_default_context``'s settings) whose CA certificates
    are loaded by the first ``wrap_bio``/``wrap_socket``, the two ways ``ssl`` starts TLS
    (asyncio's and anyio's streams use ``wrap_bio``, blocking sockets ``wrap_socket``).

    ``cafile``/``capath``: where the anchors are; neither means certifi's bundle.
    """

    _cafile: str | None
    _capath: str | None
    _loaded: bool
    _load_lock: threading.Lock

    @classmethod
    def create(cls, *, cafile: str | None = None, capath: str | None = None) -> LazyTrustContext:
        ctx = cls(ssl.PROTOCOL_TLS_CLIENT)
        # What ssl.create_default_context(Purpose.SERVER_AUTH) sets (TLS_CLIENT's defaults
        # already, said again so no change of default can loosen them).
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.check_hostname = True
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog and not sys.flags.ignore_environment:
            ctx.keylog_filename = keylog  # as create_default_context does (httpx uses it)
        ctx._cafile, ctx._capath = cafile, capath
        ctx._loaded = False
        ctx._load_lock = threading.Lock()
        return ctx

    @property
    def trust_loaded(self) -> bool:
        """Whether the CA certificates have been read (a TLS connection was set up)."""
        return self._loaded

    def load_trust(self) -> None:
        """Read the CA certificates now (once; later calls return at once)."""
        if not self._loaded:
            self._load_once()

    def _load_once(self) -> None:
        with self._load_lock:  # two threads' first connections read the file once
            if self._loaded:
                return
            cafile, capath = self._cafile, self._capath
            if cafile is None and capath is None:
                import certifi

                cafile = certifi.where()
            try:
                self.load_verify_locations(cafile=cafile, capath=capath)
            except (OSError, ssl.SSLError, ValueError) as exc:
                where = f"SSL_CERT_DIR={capath}" if capath else f"the CA file {cafile}"
                raise TlsError(
                    f"The trusted certificates could not be read from {where} "
                    f"({type(exc).__name__}); no TLS connection is made without them."
                ) from None
            self._loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_trust()
        return super().wrap_bio(*args, **kwargs)

    def get_ca_certs(self, binary_form: bool = False) -> Any:
        self.load_trust()
        return super().get_ca_certs(binary_form)

    def cert_store_stats(self) -> dict[str, int]:
        self.load_trust()
        return super().cert_store_stats()


def shared_trust_context() -> LazyTrustContext:
    """The context for ``verify=True`` with the environment as httpx reads it
    (``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi), one per source."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = None if cafile else (os.environ.get("SSL_CERT_DIR") or None)
    key = (cafile, capath)
    with _lock:
        ctx = _shared.get(key)
        if ctx is None:
            ctx = _shared[key] = LazyTrustContext.create(cafile=cafile, capath=capath)
        return ctx
