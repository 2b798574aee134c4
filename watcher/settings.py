"""Machine settings and secrets, read once from the environment (DESIGN §4).

indicators.yaml says *what* to watch; this module says *where* things live and *how* mail
leaves the machine. Secrets never come from the YAML file. The SMTP password is looked up in
this order: WATCHER_SMTP_PASSWORD, the systemd credential `smtp-password`
(LoadCredential= puts it in $CREDENTIALS_DIRECTORY), the password in WATCHER_SMTP_URL.
Once loaded, the password lives only in `Settings.smtp_password`, which repr() hides.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from platformdirs import user_data_path

from watcher import DISTRIBUTION
from watcher.errors import ConfigError
from watcher.ingest.addresses import NO_PRIVATE, AddressPolicy, parse_policy

SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CREDENTIAL_NAME = "smtp-password"
CONFIG_NAME = "indicators.yaml"
SYSTEM_CONFIG = Path("/etc/watcher") / CONFIG_NAME


@dataclass(frozen=True)
class Settings:
    """Where watcher keeps its state and how it sends mail; built by `load_settings`."""

    config_path: Path
    database_url: str
    state_dir: Path
    outbox_dir: Path
    smtp_url: str | None = None       # never holds a password: it moved to smtp_password
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    sender: str | None = None
    log_level: str = "INFO"
    fetch_timeout: float = 60.0       # seconds one feed may take, all told (WATCHER_FETCH_TIMEOUT)
    # private hosts/ranges feeds may use (WATCHER_ALLOW_PRIVATE)
    allow_private: AddressPolicy = NO_PRIVATE
    smtp_timeout: float = 60.0        # seconds one SMTP send may take (WATCHER_SMTP_TIMEOUT)
    db_busy_timeout: float = 10.0     # seconds a write waits for a lock (WATCHER_DB_BUSY_TIMEOUT)
    # Several instances on one database (PostgreSQL): who I am and how long my claims last.
    instance_id: str = field(default_factory=lambda: default_instance_id())
    # a dead instance's feeds are taken over after this (WATCHER_LEASE_SECONDS)
    lease_seconds: float = 300.0
    lease_batch: int = 50             # feeds leased at once (WATCHER_LEASE_BATCH)
    poll_tick: float = 60.0           # how often it looks for due feeds (WATCHER_POLL_TICK)
    # Items that matched no indicator are deleted this long after they were first seen
    # (WATCHER_KEEP_UNMATCHED, e.g. 400d; 0 keeps them for ever). The default outlives the
    # criterion's 12-month window, so no verdict or coverage figure changes.
    keep_unmatched_days: int = 400
    # article leads fetched per cycle for feeds with `enrich: true` (WATCHER_ENRICH_PER_CYCLE)
    enrich_per_cycle: int = 20
    report_url: str | None = None     # where state_dir/reports is published, if anywhere
    notify_urls: tuple[str, ...] = field(default=(), repr=False)   # Apprise URLs hold tokens

    @property
    def reports_dir(self) -> Path:
        """Full digest reports (every event, not cut) as .html files, one per period."""
        return self.state_dir / "reports"

    @property
    def redacted_smtp_url(self) -> str | None:
        """The SMTP URL for logs: scheme, user, host and the port actually used; no password."""
        if self.smtp_url is None:
            return None
        parts = urlsplit(self.smtp_url)
        user = f"{self.smtp_user}@" if self.smtp_user else ""
        port = parts.port or SMTP_PORTS.get(parts.scheme, 0)
        return f"{parts.scheme}://{user}{parts.hostname}:{port}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting at once, so one start reports every mistake together."""
    env = os.environ if env is None else env
    problems: list[str] = []
    state_dir = _state_dir(env)
    smtp = _parse_smtp_url(_get(env, "WATCHER_SMTP_URL"), problems)
    settings = Settings(
        config_path=config_path(env),
        database_url=_get(env, "WATCHER_DATABASE_URL") or f"sqlite:///{state_dir / 'watcher.db'}",
        state_dir=state_dir,
        outbox_dir=Path(_get(env, "WATCHER_OUTBOX_DIR") or state_dir / "outbox"),
        smtp_url=_without_userinfo(smtp) if smtp else None,
        smtp_user=_get(env, "WATCHER_SMTP_USER") or _url_part(smtp, "username"),
        smtp_password=_smtp_password(env, smtp, problems),
        sender=_sender(_get(env, "WATCHER_SENDER"), problems),
        log_level=_log_level(_get(env, "WATCHER_LOG_LEVEL"), problems),
        fetch_timeout=_seconds(env, "WATCHER_FETCH_TIMEOUT", 60.0, problems),
        allow_private=_allow_private(_get(env, "WATCHER_ALLOW_PRIVATE"), problems),
        smtp_timeout=_seconds(env, "WATCHER_SMTP_TIMEOUT", 60.0, problems),
        db_busy_timeout=_seconds(env, "WATCHER_DB_BUSY_TIMEOUT", 10.0, problems),
        instance_id=_instance_id(_get(env, "WATCHER_INSTANCE_ID"), problems),
        lease_seconds=_seconds(env, "WATCHER_LEASE_SECONDS", 300.0, problems),
        lease_batch=_count(env, "WATCHER_LEASE_BATCH", 50, problems),
        poll_tick=min(_seconds(env, "WATCHER_POLL_TICK", 60.0, problems), 60.0),
        keep_unmatched_days=_days(env, "WATCHER_KEEP_UNMATCHED", 400, problems),
        enrich_per_cycle=_count(env, "WATCHER_ENRICH_PER_CYCLE", 20, problems),
        report_url=_report_url(_get(env, "WATCHER_REPORT_URL"), problems),
        notify_urls=_notify_urls(_get(env, "WATCHER_NOTIFY_URLS"), problems),
    )
    if problems:
        error = ConfigError(problems)
        error.hint = "fix the WATCHER_* environment variables or the systemd env file"
        raise error
    return settings


def default_instance_id() -> str:
    """The host name: stable across restarts, so a restarted service takes back the send
    claims its killed predecessor left. Several instances on one host need their own ids."""
    return socket.gethostname()


def _instance_id(value: str | None, problems: list[str]) -> str:
    """WATCHER_INSTANCE_ID names this process in leases and heartbeats; host:pid when unset."""
    if value is None:
        return default_instance_id()
    if len(value) > 100 or not value.isprintable():
        problems.append("WATCHER_INSTANCE_ID: at most 100 printable characters")
        return default_instance_id()
    return value


def _count(env: Mapping[str, str], name: str, default: int, problems: list[str]) -> int:
    """A positive whole-number setting (1 to 10000); the default when unset."""
    value = _get(env, name)
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 10000:
        problems.append(f"{name}: {value!r} is not a whole number from 1 to 10000")
        return default
    return int(value)


def _get(env: Mapping[str, str], name: str) -> str | None:
    """An environment value, with empty treated as unset (systemd env files often say `X=`)."""
    value = env.get(name, "").strip()
    return value or None


def config_path(env: Mapping[str, str], system: Path = SYSTEM_CONFIG) -> Path:
    """Where indicators.yaml is when --config does not say: $WATCHER_CONFIG, else systemd's
    ConfigurationDirectory= (first entry), else /etc/watcher/indicators.yaml if there is
    one, else ./indicators.yaml (a checkout, or a maintainer's folder)."""
    configured = _get(env, "WATCHER_CONFIG")
    if configured:
        return Path(configured)
    systemd = (_get(env, "CONFIGURATION_DIRECTORY") or "").split(":")[0]
    if systemd:
        return Path(systemd) / CONFIG_NAME
    return system if system.is_file() else Path(CONFIG_NAME)


def _state_dir(env: Mapping[str, str]) -> Path:
    """WATCHER_STATE_DIR, else systemd's StateDirectory= (first entry), else the user's data
    directory (~/.local/share/watcher on Linux): never the working directory, so a command
    run in the wrong folder cannot start a second, empty watch there."""
    systemd = (_get(env, "STATE_DIRECTORY") or "").split(":")[0]
    configured = _get(env, "WATCHER_STATE_DIR") or systemd
    return Path(configured) if configured else user_data_path("watcher", appauthor=False)


def _parse_smtp_url(url: str | None, problems: list[str]) -> SplitResult | None:
    """Split and check the SMTP URL; problems never echo the URL, which may hold a password."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in SMTP_PORTS:
        problems.append(f"WATCHER_SMTP_URL: unsupported scheme {parts.scheme!r} "
                        "(use smtp://, smtp+starttls:// or smtps://)")
        return None
    try:
        parts.port  # noqa: B018 - urlsplit checks the port lazily, on access
    except ValueError:
        problems.append("WATCHER_SMTP_URL: the port is not a number from 0 to 65535")
        return None
    if not parts.hostname:
        problems.append("WATCHER_SMTP_URL: no host name (e.g. smtp+starttls://mail.example.org)")
        return None
    return parts


def _url_part(parts: SplitResult | None, name: str) -> str | None:
    """The percent-decoded username or password of the URL, if it has one."""
    value = getattr(parts, name, None) if parts else None
    return unquote(value) if value else None


def _without_userinfo(parts: SplitResult) -> str:
    """The URL minus user and password: those are kept in their own fields."""
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _smtp_password(env: Mapping[str, str], smtp: SplitResult | None,
                   problems: list[str]) -> str | None:
    """The password from the environment, the systemd credential, or the URL, in that order."""
    password = env.get("WATCHER_SMTP_PASSWORD") or None  # not stripped: spaces may be meant
    return password or _credential(env, problems) or _url_part(smtp, "password")


def _credential(env: Mapping[str, str], problems: list[str]) -> str | None:
    """The systemd credential file `smtp-password`, minus the trailing newline editors add."""
    directory = _get(env, "CREDENTIALS_DIRECTORY")
    if directory is None:
        return None
    path = Path(directory) / CREDENTIAL_NAME
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n") or None
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read the SMTP password credential ({type(exc).__name__})")
        return None


def _sender(value: str | None, problems: list[str]) -> str | None:
    """WATCHER_SENDER, e.g. `Watcher <watcher@example.org>`; must hold one address, one line."""
    if value is None:
        return None
    if "@" not in parseaddr(value)[1] or any(c in value for c in "\r\n"):
        problems.append(f"WATCHER_SENDER: {value!r} is not an email address")
        return None
    return value


def log_level(env: Mapping[str, str] | None = None) -> str:
    """WATCHER_LOG_LEVEL for setting up logging before the settings are read: INFO when unset
    or wrong (`load_settings` then reports the wrong value with the other problems)."""
    return _log_level(_get(os.environ if env is None else env, "WATCHER_LOG_LEVEL"), [])


def _log_level(value: str | None, problems: list[str]) -> str:
    """WATCHER_LOG_LEVEL as a logging level name; INFO when unset."""
    level = (value or "INFO").upper()
    if level not in LOG_LEVELS:
        problems.append(f"WATCHER_LOG_LEVEL: {value!r} is not one of {', '.join(LOG_LEVELS)}")
        return "INFO"
    return level


def _days(env: Mapping[str, str], name: str, default: int, problems: list[str]) -> int:
    """A retention in whole days ('400d' or '400'; 0 = keep for ever); the default when unset."""
    value = _get(env, name)
    if value is None:
        return default
    text = value.strip().lower().removesuffix("d")
    if not text.isdigit() or int(text) > 100_000:
        problems.append(f"{name}: {value!r} is not a number of days like 400d (0 keeps for ever)")
        return default
    return int(text)


def _seconds(env: Mapping[str, str], name: str, default: float, problems: list[str]) -> float:
    """A duration setting in seconds (0 < s <= 3600); the default when unset."""
    value = _get(env, name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        problems.append(f"{name}: {value!r} is not a number of seconds from 0 to 3600")
        return default
    return seconds
def _allow_private(value: str | None, problems: list[str]) -> AddressPolicy:
    """WATCHER_ALLOW_PRIVATE: hosts and ranges a feed's own URL may reach though private."""
    policy, wrong = parse_policy(value)
    problems.extend(wrong)
    return policy


def _notify_urls(value: str | None, problems: list[str]) -> tuple[str, ...]:
    """WATCHER_NOTIFY_URLS, comma or space separated; they need the optional Apprise, so a
    service set up for channels without it refuses to start rather than queue what it
    cannot send (looked up, not imported: it is imported when a message goes out)."""
    urls = tuple((value or "").replace(",", " ").split())
    if urls and importlib.util.find_spec("apprise") is None:
        problems.append("WATCHER_NOTIFY_URLS is set but Apprise is not installed: "
                        f"pip install '{DISTRIBUTION}[notify]'")
    return urls


def _report_url(value: str | None, problems: list[str]) -> str | None:
    """WATCHER_REPORT_URL: the http(s) base where state_dir/reports is served (no trailing /)."""
    if value is None:
        return None
    if urlsplit(value).scheme not in ("http", "https"):
        problems.append(f"WATCHER_REPORT_URL: {value!r} is not an http(s) URL")
        return None
    return value.rstrip("/")
