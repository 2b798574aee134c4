"""`watcher web`'s settings, read once from the command line and the environment."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from watcher.errors import WatcherError

DEFAULT_LISTEN = "127.0.0.1:8080"
USERS_CREDENTIAL = "web-users"          # LoadCredential=web-users:/etc/watcher/web-users
DEFAULT_USER_HEADER = "X-Forwarded-User"


@dataclass(frozen=True)
class WebOptions:
    """Where the workbench listens, who may log in, whom it trusts."""

    host: str = "127.0.0.1"
    port: int = 8080
    users_file: Path | None = None      # NAME:ROLE:ARGON2-HASH lines (WATCHER_WEB_USERS)
    public_read: bool = False           # reading without a login (--public-read)
    trusted_proxy: str | None = None    # a reverse proxy's address (WATCHER_WEB_TRUSTED_PROXY)
    user_header: str = DEFAULT_USER_HEADER   # its authenticated-user header
    session_hours: float = 12.0


def parse_listen(value: str) -> tuple[str, int]:
    """'127.0.0.1:8080', '[::1]:8080' or ':8080' (loopback) → (host, port); a clear error."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise WatcherError(f"listen address {value!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def users_file(env: Mapping[str, str] | None = None) -> Path | None:
    """WATCHER_WEB_USERS, else the systemd credential `web-users`, else none."""
    env = os.environ if env is None else env
    if env.get("WATCHER_WEB_USERS"):
        return Path(env["WATCHER_WEB_USERS"])
    creds = env.get("CREDENTIALS_DIRECTORY")
    if creds and (Path(creds) / USERS_CREDENTIAL).exists():
        return Path(creds) / USERS_CREDENTIAL
    return None


def web_options(listen: str | None, public_read: bool,
                env: Mapping[str, str] | None = None) -> WebOptions:
    """--listen (else WATCHER_WEB_LISTEN, else 127.0.0.1:8080) and the WATCHER_WEB_* variables."""
    env = os.environ if env is None else env
    host, port = parse_listen(listen or env.get("WATCHER_WEB_LISTEN") or DEFAULT_LISTEN)
    proxy = env.get("WATCHER_WEB_TRUSTED_PROXY") or None
    if proxy is not None:
        try:
            proxy = str(ipaddress.ip_address(proxy.strip()))
        except ValueError:
            raise WatcherError(f"WATCHER_WEB_TRUSTED_PROXY: {proxy!r} is not an IP address "
                               "(the reverse proxy's, as the workbench sees it)") from None
    return WebOptions(host, port, users_file(env), public_read, proxy,
                      env.get("WATCHER_WEB_USER_HEADER") or DEFAULT_USER_HEADER)
