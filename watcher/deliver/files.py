"""The file outbox: each message written as .eml and .html, atomically (demos, tests, no SMTP)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from email import policy
from email.message import EmailMessage
from pathlib import Path

from watcher.errors import DeliveryError

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._@+-]")


class FileTransport:
    """Write each message to the outbox directory: for demos, tests and machines without SMTP."""

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = outbox_dir

    def __repr__(self) -> str:
        return f"FileTransport({str(self.outbox_dir)!r})"

    def send(self, email: EmailMessage, recipient: str) -> str:
        """Write `<id>.html` then `<id>.eml`; the same Message-ID always lands on the same files."""
        name = _file_name(str(email["Message-ID"] or ""))
        eml = self.outbox_dir / f"{name}.eml"
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            write_atomically(self.outbox_dir / f"{name}.html", _html_bytes(email))
            write_atomically(eml, email.as_bytes(policy=policy.SMTP))
        except OSError as exc:
            raise DeliveryError(f"{eml}: {exc.strerror or exc}") from exc
        return str(eml)


def _file_name(message_id: str) -> str:
    """A file name from the Message-ID; a hash keeps altered or long ids from colliding."""
    bare = message_id.strip().strip("<>")
    if not bare:
        raise ValueError("the email has no Message-ID to name its outbox file")
    safe = _UNSAFE_FILE_CHARS.sub("_", bare).lstrip(".")[:120]
    if safe == bare:
        return safe
    return f"{safe}-{hashlib.sha256(bare.encode()).hexdigest()[:12]}"


def _html_bytes(email: EmailMessage) -> bytes:
    """The HTML part; the BOM makes a browser opening the local file read it as UTF-8."""
    part = email.get_body(preferencelist=("html",))
    html = part.get_content() if isinstance(part, EmailMessage) else ""
    return "\ufeff".encode() + str(html).encode("utf-8")


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename: readers see the old or the new file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself survive a power cut, not only the file's bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

