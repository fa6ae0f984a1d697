"""What keeps the studio safe on a network: the password, the upload limit, the upload cache, rate limits.

Plain Python (no gradio): the studio's launch and the public demo both call these, and the tests check them
without a server.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Mapping

AUTH_ENV = "STUDIO_AUTH"                    # USER:PASS, instead of --auth (keeps the password out of `ps`)
UPLOAD_LIMIT_ENV = "STUDIO_MAX_UPLOAD_MB"
DEFAULT_UPLOAD_MB = 200
UPLOAD_CACHE_MAX_AGE_S = 24 * 3600          # uploads older than a day are removed from gradio's cache
UPLOAD_CACHE_CLEANING = (3600, UPLOAD_CACHE_MAX_AGE_S)   # gradio's delete_cache=(every, older than), in seconds


class SecurityError(ValueError):
    """A setting that would make the studio unsafe or cannot be read; the message says what to do."""


# --- the password ------------------------------------------------------------------------------
def parse_auth(text: str) -> tuple[str, str]:
    user, sep, password = (text or "").partition(":")
    if not sep or not user.strip() or not password:
        raise SecurityError("The password setting takes a user name and a password joined by a colon (USER:PASS), "
                            "for example --auth ana:a-long-passphrase.")
    return user.strip(), password


def resolve_auth(flag: str | None, environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """(user, password) from --auth, else from the STUDIO_AUTH environment variable, else None."""
    value = flag or environ.get(AUTH_ENV)
    return parse_auth(value) if value else None


def is_loopback(host: str | None) -> bool:
    if not host or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_launch(share: bool, auth: tuple[str, str] | None, host: str | None = "127.0.0.1") -> tuple[bool, str]:
    """(may the studio start, a sentence to show or ""), for the studio itself (not the public demo)."""
    if share and not auth:
        return False, ("Refusing to share the studio without a password: anyone with the public link could upload "
                       "files and train models on this computer. Start it with --share --auth USER:PASS (or set "
                       f"{AUTH_ENV}=USER:PASS), or share only a trained model with: python -m studio demo RUN_DIR --share")
    if share or (auth and not is_loopback(host)):
        return True, ("Warning: anyone who has the link and the password can upload data and train models on this "
                      "computer. To let people only try a model, share a demo of one run instead.")
    if not is_loopback(host):
        return True, (f"Warning: the studio listens on {host} without a password, so anyone on this network can "
                      "upload data and train models. Add --auth USER:PASS to require a password.")
    return True, ""


# --- uploads -----------------------------------------------------------------------------------
def upload_limit_bytes(flag_mb: float | None = None, environ: Mapping[str, str] = os.environ) -> int:
    """The largest file the studio accepts: --max-upload-mb, else STUDIO_MAX_UPLOAD_MB, else 200 MB."""
    value = flag_mb if flag_mb is not None else environ.get(UPLOAD_LIMIT_ENV)
    if value is None or value == "":
        value = DEFAULT_UPLOAD_MB
    try:
        megabytes = float(value)
    except ValueError:
        raise SecurityError(f"{UPLOAD_LIMIT_ENV} must be a number of megabytes, such as 200; it is {value!r}.") from None
    if megabytes <= 0:
        raise SecurityError("The upload limit must be more than 0 MB.")
    return int(megabytes * 1024 * 1024)


def describe_size(n_bytes: float) -> str:
    """200 MB, 1.5 GB, 10.2 KB."""
    size, unit = float(n_bytes), "bytes"
    for bigger in ("KB", "MB", "GB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:.1f}".rstrip("0").rstrip(".") + f" {unit}"


def too_large_sentence(limit_bytes: int) -> str:
    return (f"This file is larger than the upload limit of {describe_size(limit_bytes)}. Use a smaller file "
            f"(a sample of the rows is often enough), or start the studio with --max-upload-mb and a larger number.")


def upload_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where gradio keeps uploaded files (the same rule as gradio.utils.get_upload_folder)."""
    return Path(environ.get("GRADIO_TEMP_DIR") or (Path(tempfile.gettempdir()) / "gradio")).resolve()


def clean_upload_cache(folder: str | Path | None = None, older_than_s: float = UPLOAD_CACHE_MAX_AGE_S,
                       now: float | None = None) -> int:
    """Remove entries of the upload cache not touched for `older_than_s`; how many were removed."""
    folder = Path(folder) if folder else upload_cache_dir()
    if not folder.is_dir():
        return 0
    cutoff = (now if now is not None else time.time()) - older_than_s
    removed = 0
    for entry in folder.iterdir():
        try:
            if entry.lstat().st_mtime >= cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except OSError:
            continue  # in use or removed by someone else: try again next time
    return removed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--share, --auth and --max-upload-mb for the studio's command line."""
    parser.add_argument("--share", action="store_true", help="also create a public link (needs --auth; to share "
                        "only a model, use: python -m studio demo RUN_DIR --share)")
    parser.add_argument("--auth", metavar="USER:PASS", default=None,
                        help=f"require this user name and password (or set {AUTH_ENV}=USER:PASS)")
    parser.add_argument("--max-upload-mb", type=float, default=None,
                        help=f"largest file accepted, in MB (default {DEFAULT_UPLOAD_MB}, or set {UPLOAD_LIMIT_ENV})")


# --- rate limits -------------------------------------------------------------------------------
TRUSTED_PROXIES_ENV = "STUDIO_TRUSTED_PROXIES"   # addresses of reverse proxies whose X-Forwarded-For is believed
VISITOR_COOKIE = "studio_visitor"


class RateLimit:
    """At most `limit` calls per `window_s` seconds for each key (a visitor), and at most `total` for all keys
    together (the cap that holds however many keys a client invents), kept in memory."""

    def __init__(self, limit: int = 30, window_s: float = 60.0, clock=time.monotonic, total: int | None = None) -> None:
        self.limit, self.window_s, self.clock, self.total = limit, window_s, clock, total
        self._calls: dict[str, deque] = {}
        self._all: deque = deque()
        self._lock = threading.Lock()

    def allow(self, key: str, cost: int = 1) -> bool:
        """Count `cost` calls for `key` if both limits leave room for them; False (and nothing counted) if not."""
        now = self.clock()
        with self._lock:
            if len(self._calls) > 10_000:  # many keys: forget the ones that went quiet
                self._calls = {k: q for k, q in self._calls.items() if q and q[-1] > now - self.window_s}
            calls = self._calls.setdefault(key, deque())
            for queue in (calls, self._all):
                while queue and queue[0] <= now - self.window_s:
                    queue.popleft()
            if len(calls) + cost > self.limit or (self.total is not None and len(self._all) + cost > self.total):
                return False
            calls.extend([now] * cost)
            self._all.extend([now] * cost)
            return True


def trusted_proxies(environ: Mapping[str, str] = os.environ) -> frozenset[str]:
    """The proxies named in STUDIO_TRUSTED_PROXIES (comma-separated addresses); none by default."""
    return frozenset(p.strip() for p in environ.get(TRUSTED_PROXIES_ENV, "").split(",") if p.strip())


def believe_forwarded_for_only_from_trusted_proxies(environ: dict = os.environ) -> None:
    """Call before launching a web app. Uvicorn, under Gradio, believes X-Forwarded-For from 127.0.0.1 by default
    and puts that address in place of the caller's before any code of the app runs; all share-tunnel traffic
    comes from 127.0.0.1, so any visitor could name themselves anew with each request. Uvicorn reads its list of
    trusted proxies from FORWARDED_ALLOW_IPS: it gets STUDIO_TRUSTED_PROXIES (none by default)."""
    environ["FORWARDED_ALLOW_IPS"] = ",".join(sorted(trusted_proxies(environ)))


def client_address(peer: str | None, forwarded_for: str | None = None, trusted: frozenset[str] = frozenset()) -> str:
    """Who is calling: the address that connected. Anyone can write an X-Forwarded-For header, so it is read only
    when the connection comes from a proxy the owner trusts (STUDIO_TRUSTED_PROXIES), and then the last address
    that proxy added which is not itself a trusted proxy."""
    if forwarded_for and peer in trusted:
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            if hop not in trusted:
                return hop
    return peer or "unknown"


class VisitorSessions:
    """Signed visitor tokens that a page hands out in a cookie. The share tunnel delivers every visitor from
    this computer's own address, so there the token is what tells visitors apart; a visitor can fetch the page
    again for a new one, so new tokens are limited too (`new_per_minute` for all visitors together) and past
    that a visitor shares one bucket with every other visitor who has none."""

    def __init__(self, new_per_minute: int = 120, clock=time.monotonic) -> None:
        self._key = secrets.token_bytes(32)
        self._minted = RateLimit(new_per_minute, 60, clock)

    def _sign(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str | None:
        """A new cookie value, or None when too many were handed out this minute."""
        if not self._minted.allow("all"):
            return None
        token = secrets.token_urlsafe(12)
        return f"{token}.{self._sign(token)}"

    def verify(self, value: str | None) -> str | None:
        """The token inside a cookie value this process signed, else None."""
        token, _, signature = (value or "").partition(".")
        if token and signature and hmac.compare_digest(signature, self._sign(token)):
            return token
        return None


def visitor_key(peer: str | None, forwarded_for: str | None = None, cookie: str | None = None,
                sessions: VisitorSessions | None = None, trusted: frozenset[str] | None = None) -> str:
    """What a rate limit counts against: the caller's address; for callers on this computer (the share tunnel
    among them), the visitor token of their cookie, or one shared bucket for all without one."""
    address = client_address(peer, forwarded_for, trusted_proxies() if trusted is None else trusted)
    if not is_loopback(address):
        return address
    token = sessions.verify(cookie) if sessions else None
    return f"session:{token}" if token else "loopback"
