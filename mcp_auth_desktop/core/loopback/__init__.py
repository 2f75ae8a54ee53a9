"""The loopback redirect listener of a native OAuth client (RFC 8252 §7.3).

A tiny HTTP/1.1 server on asyncio streams, written out by hand because it
faces hostile local traffic (other processes, web pages doing DNS rebinding,
browser prefetches) and must stay small enough to audit:

* binds a loopback IP literal only, on an ephemeral port unless the user
  fixed one; the redirect URI is built from the address actually bound;
* accepts ``GET <path>`` with a ``Host`` of exactly the bound literal and
  port (``127.0.0.1:<port>``; never ``localhost``, which DNS or a hosts file
  could send elsewhere), no ``Origin`` and, when the browser says, a top-level
  navigation (``Sec-Fetch-Dest: document``); anything else gets a 4xx, is
  closed at once and the pending sign-in carries on;
* a well-formed callback whose ``state`` is wrong or missing ends the pending
  sign-in at once with :class:`StateMismatchError` (a possible cross-site
  request forgery) and the page says so; only the matching ``state`` delivers;
* serves a single-use start page (``/start/<random>``) that redirects (302) to
  the authorization URL, so the browser's command line only ever carries that
  loopback address, never ``state`` or ``code_challenge`` (readable by other
  local users in the process list); a second request for it is refused and
  ends the sign-in with :class:`StartPageReusedError`;
* denial of service: caps the request head (8 KiB), reads it under a short
  per-connection deadline (slowloris), answers bad requests and closes them
  at once (a short linger only lets the reply reach the client), and when all
  connection slots are taken evicts the oldest connection that is not the
  real callback, so a flood of bad requests cannot keep the browser out;
* answers with a page rendered from ``resources/templates/callback.html``,
  every value HTML-escaped, never the code, with ``no-store``,
  ``no-referrer``, ``nosniff`` and a CSP that allows no script, frame or fetch;
* closes the port on success (when the flow leaves the ``async with``),
  error, cancellation and timeout.

The modules: ``listener`` (:class:`LoopbackListener`: the socket, the
connection slots, the sign-in it serves), ``binding`` (where it may listen,
the socket options), ``validation`` (which requests it answers: head parsing,
the browser-navigation checks, the start token, the callback's query and
``state``), ``pages`` (the page and the response around it).

Typical use::

    async with LoopbackListener() as lst:
        lst.expect_state(state)
        open_browser(lst.start_page(authorization_url(redirect_uri=lst.redirect_uri, state=state)))
        params = await lst.wait()       # query of the redirect, state already checked
        ...                             # check iss, exchange the code
        lst.report(True, "Signed in.")  # the page the browser shows
"""

from __future__ import annotations

from .listener import LoopbackListener
from .pages import SECURITY_HEADERS, render_page
from .validation import START_PREFIX, START_REUSED_MESSAGE, STATE_MISMATCH_MESSAGE, is_start_page

__all__ = [
    "LoopbackListener",
    "SECURITY_HEADERS",
    "START_PREFIX",
    "STATE_MISMATCH_MESSAGE",
    "START_REUSED_MESSAGE",
    "is_start_page",
    "render_page",
]
