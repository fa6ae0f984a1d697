"""What keeps the studio safe on a network: the password, the upload limit, the upload cache, rate limits.

Plain Python (no gradio): the studio's launch and the public demo both call these, and the tests check them
without a server.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
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
class RateLimit:
    """At most `limit` calls per `window_s` seconds for each key (a client address), kept in memory."""

    def __init__(self, limit: int = 30, window_s: float = 60.0, clock=time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._calls: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            if len(self._calls) > 10_000:  # many addresses: forget the ones that went quiet
                self._calls = {k: q for k, q in self._calls.items() if q and q[-1] > now - self.window_s}
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - self.window_s:
                calls.popleft()
            if len(calls) >= self.limit:
                return False
            calls.append(now)
            return True


def client_address(peer: str | None, forwarded_for: str | None = None) -> str:
    """Who is calling: behind the share tunnel every request comes from this computer, so the tunnel's
    X-Forwarded-For names the visitor; from anywhere else that header is not trusted."""
    if forwarded_for and is_loopback(peer):
        return forwarded_for.split(",")[0].strip() or (peer or "unknown")
    return peer or "unknown"
