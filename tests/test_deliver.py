"""Delivery against a real SMTP server on 127.0.0.1 and a real outbox directory."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.smtpserver import RawSmtpServer, SmtpServer
from watcher.deliver import FileTransport, Message, SmtpTransport, build_email, transport_for
from watcher.errors import ConfigError, DeliveryError, PermanentDeliveryError
from watcher.settings import Settings

ALMATY = timezone(timedelta(hours=5))

# The auth server allows AUTH without TLS on purpose (loopback, no certificates to manage).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def make_message(**changes: object) -> Message:
    fields: dict[str, object] = {
        "message_id": "digest-2026-w02.analyst@watcher.test",
        "sender": "Watcher <watcher@watcher.test>",
        "recipient": "analyst@example.org",
        "subject": "Казахстан: weekly digest — 2 events",
        "text": "Two events this week.\nСоглашения Авраама.\n",
        "html": "<p>Two events this week.</p><p>Соглашения Авраама.</p>",
        "headers": {"List-Id": "Watcher digest <digest.watcher.test>",
                    "Auto-Submitted": "auto-generated"},
        "date": datetime(2026, 1, 12, 7, 0, tzinfo=ALMATY),
    }
    fields.update(changes)
    return Message(**fields)  # type: ignore[arg-type]


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpServer]:
    """Like `smtp_server` (tests/conftest.py), but mail needs AUTH as alice / s3cret-pw."""
    server = SmtpServer(users={"alice": "s3cret-pw"})
    server.start()
    yield server
    server.stop()


def smtp_to(server: SmtpServer) -> SmtpTransport:
    return SmtpTransport(server.url, None, None, timeout=5)


def send(transport: SmtpTransport | FileTransport, msg: Message | None = None) -> str:
    msg = msg or make_message()
    return transport.send(build_email(msg), msg.recipient)


# --- build_email ------------------------------------------------------------------------

def test_build_email_has_both_parts_and_all_headers() -> None:
    email = build_email(make_message())
    assert email.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in email.iter_parts()] == ["text/plain", "text/html"]
    assert email["Message-ID"] == "<digest-2026-w02.analyst@watcher.test>"
    assert email["MIME-Version"] == "1.0"


def test_build_email_is_seven_bit_on_the_wire() -> None:
    assert build_email(make_message()).as_bytes().isascii()


def test_header_injection_through_subject_is_neutralised() -> None:
    msg = make_message(subject="Deal signed\r\nBcc: evil@x\r\n\r\nbody", recipient="a@b.org")
    wire = build_email(msg).as_bytes()
    parsed = message_from_bytes(wire, policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Deal signed Bcc: evil@x body"
    assert b"\r\nBcc:" not in wire


@pytest.mark.parametrize("field", ["sender", "recipient", "message_id"])
def test_no_header_value_can_add_a_line(field: str) -> None:
    value = {"sender": "w@x.org\nBcc: evil@x", "recipient": "a@b.org\rBcc: evil@x",
             "message_id": "id@x\x00\nBcc: evil@x"}[field]
    parsed = message_from_bytes(build_email(make_message(**{field: value})).as_bytes(),
                                policy=policy.default)
    assert parsed["Bcc"] is None


def test_extra_header_values_are_cleaned_and_names_checked() -> None:
    parsed = build_email(make_message(headers={"X-Feed": "a\r\nBcc: evil@x"}))
    assert parsed["X-Feed"] == "a Bcc: evil@x" and parsed["Bcc"] is None
    with pytest.raises(ValueError):
        build_email(make_message(headers={"Bad Name:": "x"}))
    with pytest.raises(ValueError):
        build_email(make_message(headers={"To": "someone-else@x.org"}))


# --- SMTP -------------------------------------------------------------------------------

def test_smtp_delivers_both_parts_and_headers(smtp_server: SmtpServer) -> None:
    receipt = send(smtp_to(smtp_server))
    assert receipt.startswith("250 ")
    [got] = smtp_server.messages
    assert got.mail_from == "watcher@watcher.test"
    assert got.rcpt_tos == ["analyst@example.org"]
    mail = got.message
    assert mail["Message-ID"] == "<digest-2026-w02.analyst@watcher.test>"
    assert parsedate_to_datetime(mail["Date"]) == datetime(2026, 1, 12, 2, 0, tzinfo=UTC)
    assert mail["From"] == "Watcher <watcher@watcher.test>"
    assert mail["To"] == "analyst@example.org"
    assert mail["Subject"] == "Казахстан: weekly digest — 2 events"
    assert mail["List-Id"] == "Watcher digest <digest.watcher.test>"
    assert mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and "Соглашения Авраама." in text.get_content()
    assert html is not None and html.get_content().rstrip() == make_message().html


def test_smtp_5xx_at_data_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.reply = "550 mailbox unavailable"
    with pytest.raises(PermanentDeliveryError, match="^550 mailbox unavailable"):
        send(smtp_to(smtp_server))
    assert smtp_server.messages == []


def test_smtp_5xx_at_rcpt_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.rcpt_reply = "550 5.1.1 no such user"
    with pytest.raises(PermanentDeliveryError, match="550 5.1.1 no such user"):
        send(smtp_to(smtp_server))


@pytest.mark.parametrize("where", ["reply", "rcpt_reply"])
def test_smtp_4xx_is_retried_later(smtp_server: SmtpServer, where: str) -> None:
    setattr(smtp_server, where, "451 try later")
    with pytest.raises(DeliveryError, match="451 try later") as caught:
        send(smtp_to(smtp_server))
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_smtp_outage_is_retried_and_recovers_on_the_same_port(smtp_server: SmtpServer) -> None:
    transport = smtp_to(smtp_server)
    smtp_server.stop()
    with pytest.raises(DeliveryError) as caught:
        send(transport)
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert f"127.0.0.1:{smtp_server.port}" in str(caught.value)
    smtp_server.start()
    assert send(transport).startswith("250 ")
    assert len(smtp_server.messages) == 1


def test_starttls_against_a_server_without_it_is_not_permanent(smtp_server: SmtpServer) -> None:
    transport = SmtpTransport(smtp_server.url.replace("smtp:", "smtp+starttls:"), None, None,
                              timeout=5)
    with pytest.raises(DeliveryError, match="STARTTLS") as caught:
        send(transport)
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_smtps_against_a_plain_server_fails_cleanly(smtp_server: SmtpServer) -> None:
    transport = SmtpTransport(smtp_server.url.replace("smtp:", "smtps:"), None, None, timeout=5)
    with pytest.raises(DeliveryError):
        send(transport)
    assert smtp_server.messages == []


def test_smtp_login(smtp_auth_server: SmtpServer) -> None:
    transport = SmtpTransport(smtp_auth_server.url, "alice", "s3cret-pw", timeout=5)
    assert send(transport).startswith("250 ")
    assert [m.login for m in smtp_auth_server.messages] == ["alice"]


def test_smtp_wrong_password_never_shows_the_password(smtp_auth_server: SmtpServer) -> None:
    transport = SmtpTransport(smtp_auth_server.url, "alice", "wrong-pw-123", timeout=5)
    with pytest.raises(DeliveryError) as caught:
        send(transport)
    assert not isinstance(caught.value, PermanentDeliveryError)  # fix the config, then retry
    assert "535" in str(caught.value)
    assert "wrong-pw-123" not in str(caught.value)
    assert "wrong-pw-123" not in repr(caught.value) and "wrong-pw-123" not in repr(transport)
    assert smtp_auth_server.messages == []


def test_smtp_without_login_is_refused_by_an_auth_server(smtp_auth_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="530") as caught:
        send(smtp_to(smtp_auth_server))
    assert not isinstance(caught.value, PermanentDeliveryError)  # configure a login, then retry


def test_smtp_url_scheme_is_checked() -> None:
    with pytest.raises(ConfigError, match="unsupported scheme 'http'"):
        SmtpTransport("http://mail.example.org", None, None)


# --- file outbox ------------------------------------------------------------------------

def test_file_transport_writes_eml_and_html(tmp_path: Path) -> None:
    msg = make_message()
    email = build_email(msg)
    receipt = FileTransport(tmp_path / "outbox").send(email, msg.recipient)
    eml = Path(receipt)
    assert eml == tmp_path / "outbox" / "digest-2026-w02.analyst@watcher.test.eml"
    parsed = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed.as_bytes(policy=policy.SMTP) == email.as_bytes()
    assert parsed["Subject"] == msg.subject
    html = eml.with_suffix(".html").read_text(encoding="utf-8-sig")
    assert html.rstrip() == msg.html


def test_file_transport_is_idempotent(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path)
    first = send(transport)
    second = send(transport, make_message(text="rendered again"))
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "digest-2026-w02.analyst@watcher.test.eml", "digest-2026-w02.analyst@watcher.test.html"]
    assert b"rendered again" in Path(second).read_bytes()


def test_file_names_stay_inside_the_outbox(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    a = send(FileTransport(outbox), make_message(message_id="../../etc/passwd@x"))
    b = send(FileTransport(outbox), make_message(message_id="______etc_passwd@x"))
    assert Path(a).parent == outbox and Path(b).parent == outbox
    assert a != b                              # altered ids get a hash, so they cannot collide


def test_unwritable_outbox_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(DeliveryError, match="not-a-dir"):
        send(FileTransport(blocker / "outbox"))


# --- choosing a transport ---------------------------------------------------------------

def test_transport_for_prefers_smtp_and_falls_back_to_files(tmp_path: Path) -> None:
    files = Settings(config_path=Path("i.yaml"), database_url="sqlite://", state_dir=tmp_path,
                     outbox_dir=tmp_path / "outbox")
    assert isinstance(transport_for(files), FileTransport)
    smtp = transport_for(replace(files, smtp_url="smtps://mail.example.org", smtp_user="u",
                                 smtp_password="p"))
    assert isinstance(smtp, SmtpTransport) and (smtp.host, smtp.port) == ("mail.example.org", 465)


def test_stored_bytes_parse_back_and_send_unchanged(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """The outbox keeps raw bytes and re-parses them before sending: nothing may drift."""
    raw = bytes(build_email(make_message()))
    stored = message_from_bytes(raw, policy=policy.SMTP)
    assert isinstance(stored, EmailMessage)
    eml = Path(FileTransport(tmp_path).send(stored, "analyst@example.org"))
    assert eml.read_bytes() == raw
    assert eml.with_suffix(".html").read_text(encoding="utf-8-sig").rstrip() == make_message().html
    smtp_to(smtp_server).send(stored, "analyst@example.org")
    assert smtp_server.messages[0].message["Subject"] == make_message().subject


# --- a hostile or broken server: deadline, echoed secrets (issue 16) -------------------------

@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
def test_a_server_answering_a_byte_every_10_s_cannot_hold_a_send_past_its_deadline(
        scheme: str) -> None:
    """Each byte comes well within the 30 s wait for a read: only a total deadline ends it
    (it took 241 s). smtps: the trickle stalls the TLS handshake instead."""
    with RawSmtpServer(byte_delay=10) as server:
        transport = SmtpTransport(f"{scheme}://127.0.0.1:{server.port}", None, None,
                                  timeout=30, deadline=3)
        started = time.monotonic()
        with pytest.raises(DeliveryError) as caught:
            send(transport)
        elapsed = time.monotonic() - started
    assert 2.9 < elapsed < 5, elapsed
    assert not isinstance(caught.value, PermanentDeliveryError)       # tried again later
    assert str(caught.value).startswith(f"{scheme}://127.0.0.1:{server.port}: the send took "
                                        "longer than its 3 s deadline (WATCHER_SMTP_TIMEOUT)")


def test_a_login_echoed_in_the_refusal_is_redacted_in_every_form() -> None:
    password = "pw:Q7/z@x+~"
    with RawSmtpServer(echo_auth=True) as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", "alice", password, timeout=5)
        with pytest.raises(DeliveryError) as caught:
            send(transport)
    text = str(caught.value)
    assert "535 5.7.8 authentication failed: " in text and "AUTH PLAIN ***" in text
    for form in secret_forms(password, "alice"):
        assert form not in text and form not in repr(caught.value), form
    assert caught.value.__cause__ is None           # no chained raw reply to log by accident


def secret_forms(secret: str, user: str) -> list[str]:
    """A secret as a reply could echo it: plain, URL-quoted, base64 alone or in AUTH PLAIN."""
    return [secret, quote(secret, safe=""), quote_plus(secret),
            base64.b64encode(secret.encode()).decode(),
            base64.b64encode(f"\0{user}\0{secret}".encode()).decode()]


def test_transport_for_gives_smtp_sends_the_deadline_of_the_settings(tmp_path: Path) -> None:
    settings = Settings(config_path=tmp_path / "i.yaml", database_url="sqlite://",
                        state_dir=tmp_path, outbox_dir=tmp_path / "outbox",
                        smtp_url="smtp+starttls://mail.example.org:587", smtp_timeout=7.5)
    transport = transport_for(settings)
    assert isinstance(transport, SmtpTransport) and transport.deadline == 7.5


def test_a_login_over_plain_smtp_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="watcher"):
        SmtpTransport("smtp://mail.clear.example:25", "alice", "pw")
        SmtpTransport("smtp://mail.clear.example:25", "alice", "pw")
        SmtpTransport("smtp+starttls://mail.tls.example", "alice", "pw")
        SmtpTransport("smtps://mail.tls.example", "alice", "pw")
        SmtpTransport("smtp://relay.nologin.example", None, None)
    assert [r.getMessage() for r in caplog.records] == [
        ("WATCHER_SMTP_URL is smtp://mail.clear.example:25 without TLS: the password of alice "
         "would be sent in clear; use smtp+starttls:// or smtps://")]
