"""The workbench's users: one `NAME:ROLE:HASH` line each in the file WATCHER_WEB_USERS names
(a systemd credential in the unit); passwords hashed with argon2id (argon2-cffi).

Roles: `analyst` reads and decides; `reader` only reads. `watcher web user add NAME` writes a
line; nothing else writes the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from watcher.errors import WatcherError

ROLES = ("analyst", "reader")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
_HASHER = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY = _HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    """Someone who may log in: the name decisions are recorded with, and what they may do."""

    name: str
    role: str
    password_hash: str = ""

    @property
    def may_write(self) -> bool:
        return self.role == "analyst"


def load_users(path: Path | None) -> dict[str, User]:
    """The users file (none: nobody can log in); a bad line is a one-line error with its number."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WatcherError(f"users file {path}: {exc.strerror or exc}") from exc
    users: dict[str, User] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, rest = line.strip().partition(":")
        role, _, hashed = rest.partition(":")
        if not NAME.match(name) or role not in ROLES or not hashed.startswith("$argon2"):
            raise WatcherError(f"users file {path} line {n}: expected NAME:ROLE:ARGON2-HASH "
                               f"with ROLE one of {', '.join(ROLES)} "
                               "(write lines with `watcher web user add NAME`)")
        users[name] = User(name, role, hashed)
    return users


def check_password(users: dict[str, User], name: str, password: str) -> User | None:
    """The user if the password is theirs, else None (unknown names take as long)."""
    user = users.get(name)
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def add_user(path: Path, name: str, password: str, role: str) -> bool:
    """Add or replace NAME's line (mode 0600, written atomically); True when it was new."""
    if not NAME.match(name):
        raise WatcherError(f"user name {name!r}: letters, digits and . _ @ - (at most 64)")
    if role not in ROLES:
        raise WatcherError(f"role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise WatcherError(f"password: at least {MIN_PASSWORD} characters")
    users = load_users(path) if path.exists() else {}
    new = name not in users
    users[name] = User(name, role, _HASHER.hash(password))
    text = "".join(f"{u.name}:{u.role}:{u.password_hash}\n" for u in users.values())
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise WatcherError(f"users file {path}: {exc.strerror or exc}") from exc
    return new
