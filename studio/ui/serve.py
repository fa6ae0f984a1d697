"""Putting a Gradio app on the network safely: launch settings, the public link, and two small guards.

Gradio answers a failed share tunnel with a paragraph about a missing binary; `launch` here makes the
public link itself and says what happened in one sentence. The guards are ASGI middleware given to
FastAPI through launch(app_kwargs=...): they answer before gradio reads a request.
"""
from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any, Callable
from urllib.parse import urlparse, urlunparse

import gradio as gr
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse

from .. import security
from ..sharing import no_public_link_sentence

LOGIN_ATTEMPTS_PER_MINUTE = 10          # per address
LOGIN_ATTEMPTS_ALL_PER_MINUTE = 30      # all addresses together: what a client rotating addresses still meets


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _path(scope: dict) -> str:
    return scope.get("path", "").rstrip("/")


class DemoGuard:
    """Lets through only what a visitor of the demo needs: the page, the queue and the named functions.

    Every other POST (uploads, direct /run/ calls, run history, component servers) gets 403 and a sentence,
    and a queue request must name one of the allowed functions by index, so a stranger cannot reach any
    other function of the app, even one that runs only in the browser.
    """
    MAX_BODY = 256 * 1024
    OPEN_POSTS = ("/gradio_api/cancel", "/gradio_api/reset")
    REFUSED_GET_PREFIXES = ("/monitoring", "/gradio_api/mcp", "/gradio_api/upload", "/gradio_api/run-history")

    def __init__(self, app, names: tuple[str, ...], fn_ids: tuple[int, ...],
                 sentence: str = "This demo accepts no files and no direct API calls.",
                 sessions: security.VisitorSessions | None = None) -> None:
        self.app, self.names, self.fn_ids, self.sentence = app, set(names), set(fn_ids), sentence
        self.sessions = sessions

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = _path(scope), scope.get("method")
        if path.startswith("/gradio_api/call/"):
            parts = path.split("/")[3:]
            name = parts[1] if parts[:1] == ["v2"] and len(parts) > 1 else parts[0]
            allowed = name in self.names
        elif method == "POST" and path == "/gradio_api/queue/join":
            body = await _read_body(receive, self.MAX_BODY)
            allowed = body is not None and _fn_index(body) in self.fn_ids
            receive = _replay(body or b"")
        elif method == "POST":
            allowed = path in self.OPEN_POSTS
        else:
            allowed = not path.startswith(self.REFUSED_GET_PREFIXES)
        if not allowed:
            await PlainTextResponse(self.sentence, status_code=403)(scope, receive, send)
            return
        if method == "GET" and path == "" and self.sessions is not None:
            send = _with_visitor_cookie(scope, send, self.sessions)
        await self.app(scope, receive, send)


def _cookie(scope: dict, name: str) -> str | None:
    for part in (_header(scope, b"cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _with_visitor_cookie(scope: dict, send: Callable, sessions: security.VisitorSessions) -> Callable:
    """The page's response carries a signed visitor token (security.VisitorSessions) unless it has one."""
    if sessions.verify(_cookie(scope, security.VISITOR_COOKIE)):
        return send
    value = sessions.issue()
    if value is None:
        return send

    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{security.VISITOR_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax"
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
        await send(message)
    return wrapped


async def _read_body(receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is longer than `limit`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Callable:
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return receive


def _fn_index(body: bytes) -> int | None:
    try:
        value = json.loads(body).get("fn_index")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


class StudioGuard:
    """The studio's uploads get the size limit in a plain sentence, and sign-in attempts are rate limited."""

    def __init__(self, app, limit_bytes: int, login_limit: security.RateLimit | None = None) -> None:
        self.app, self.limit_bytes = app, limit_bytes
        self.login_limit = login_limit or security.RateLimit(LOGIN_ATTEMPTS_PER_MINUTE, 60,
                                                             total=LOGIN_ATTEMPTS_ALL_PER_MINUTE)
        self.sentence = security.too_large_sentence(limit_bytes)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = _path(scope)
        if path == "/login" and not self.login_limit.allow(_peer(scope)):
            refusal = PlainTextResponse("Too many sign-in attempts; wait a minute and try again.", 429)
            await refusal(scope, receive, send)
            return
        if not path.endswith("/upload"):
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        length = int(length) if length and length.isdigit() else 0
        if length > self.limit_bytes * 1.1 + 64 * 1024:  # clearly too large: refuse before reading it
            await PlainTextResponse(self.sentence, status_code=413)(scope, receive, send)
            return
        await self.app(scope, receive, self._replace_413(scope, receive, send))

    def _replace_413(self, scope, receive, send) -> Callable:
        """Gradio's own 413 ("...maximum allowed size of 209715200 bytes") becomes the sentence."""
        replaced = False

        async def wrapped(message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                replaced = True
                await PlainTextResponse(self.sentence, status_code=413)(scope, receive, send)
            elif not replaced:
                await send(message)
        return wrapped


def _peer(scope: dict) -> str:
    client = scope.get("client") or ("unknown", 0)
    return security.client_address(client[0], _header(scope, b"x-forwarded-for"), security.trusted_proxies())


# --- launching ---------------------------------------------------------------------------------
def studio_launch(share: bool, auth_flag: str | None, host: str | None, max_upload_mb: float | None,
                  say: Callable[[str], None] = print, runs_dir: str | None = None) -> dict[str, Any] | None:
    """The settings for the studio's `launch()` below, or None after saying why the studio must not start.
    With `runs_dir`, the studio also answers POST /api/v1/classify with its runs' models (studio.ui.rest)."""
    try:
        auth = security.resolve_auth(auth_flag)
        limit = security.upload_limit_bytes(max_upload_mb)
    except security.SecurityError as err:
        say(str(err))
        return None
    ok, sentence = security.check_launch(share, auth, host)
    if sentence:
        say(sentence)
    if not ok:
        return None
    security.clean_upload_cache()
    middleware = [Middleware(StudioGuard, limit_bytes=limit)]
    if runs_dir is not None:
        from . import rest
        middleware.insert(0, Middleware(rest.RestGate, api=rest.studio_api(runs_dir, auth)))
    return {"auth": auth, "max_file_size": limit, "cache_cleaning": security.UPLOAD_CACHE_CLEANING,
            "app_kwargs": {"middleware": middleware}}


def open_tunnel(blocks: gr.Blocks, what: str = "demo") -> tuple[str | None, str | None]:
    """(public URL, None), or (None, the sentence saying there is none) for a launched app."""
    from gradio import networking
    try:
        address = networking.setup_tunnel(local_host=blocks.server_name, local_port=blocks.server_port,
                                          share_token=blocks.share_token, share_server_address=None,
                                          share_server_tls_certificate=None)
    except Exception:  # offline, the tunnel binary missing or blocked: all the user can do is the same
        return None, no_public_link_sentence(blocks.local_url, what)
    url = urlunparse(("https",) + urlparse(address)[1:])
    blocks.share_url, blocks.share = url, True  # robots.txt then asks search engines to stay away
    return url, None


def launch(blocks: gr.Blocks, share: bool = False, block: bool = True, cache_cleaning: tuple | None = None,
           say: Callable[[str], None] = print, what: str = "studio",
           **launch_kwargs: Any) -> tuple[str, str | None, str | None]:
    """Launch locally, then make the public link if asked; (local URL, public URL, sentence why none).
    With block=True it serves until Ctrl-C, like gradio's own launch()."""
    block = block and not launch_kwargs.pop("prevent_thread_lock", False)
    security.believe_forwarded_for_only_from_trusted_proxies()
    if cache_cleaning and blocks.delete_cache is None:
        blocks.delete_cache = cache_cleaning
    launch_kwargs.setdefault("quiet", True)
    blocks.launch(share=False, prevent_thread_lock=True, **launch_kwargs)
    say(f"Running on {blocks.local_url}")
    public_url = note = None
    if share:
        public_url, note = open_tunnel(blocks, what)
        say(note or f"Public link: {public_url}")
    if block:
        blocks.block_thread()
    return blocks.local_url, public_url, note


# --- shutting down -------------------------------------------------------------------------------
def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def interrupt_on_sigterm() -> None:
    """SIGTERM (a service manager, `kill`) ends the studio the way Ctrl-C does, cleanup included."""
    signal.signal(signal.SIGTERM, _interrupt)


def stop_training(manager, say: Callable[[str], None] = print) -> None:
    """Before the studio exits: its runs stop at their next step keeping the best model so far, queued runs
    are cancelled; a second Ctrl-C stops them without keeping anything, a third leaves at once."""
    if not manager.active_runs():
        return
    say("Stopping training at the next step and keeping the best model so far; "
        "press Ctrl-C again to stop without keeping it.")
    for keep in (True, False):
        try:
            manager.shutdown(keep=keep)
            return
        except KeyboardInterrupt:
            say("Stopping without keeping a model." if keep else "Leaving now; the run is marked when it ends.")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # a normal exit would wait for the training processes (multiprocessing joins its children)
