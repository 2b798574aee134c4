"""Settings come from the environment only, and the SMTP password never shows."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from watcher.errors import ConfigError
from watcher.settings import Settings, config_path, load_settings


def test_defaults() -> None:
    """Interactive use keeps state in the user's data directory, never the working one."""
    data = platformdirs.user_data_path("watcher", appauthor=False)
    s = load_settings({})
    assert s == Settings(config_path=config_path({}), database_url=f"sqlite:///{data}/watcher.db",
                         state_dir=data, outbox_dir=data / "outbox")
    assert data.is_absolute() and s.log_level == "INFO" and s.smtp_url is None
    assert s.redacted_smtp_url is None


def test_the_config_is_looked_for_where_services_keep_it(tmp_path: Path) -> None:
    """$WATCHER_CONFIG, systemd's $CONFIGURATION_DIRECTORY, /etc/watcher, ./indicators.yaml."""
    etc = tmp_path / "etc" / "indicators.yaml"
    assert config_path({}, system=etc) == Path("indicators.yaml")        # no /etc file yet
    etc.parent.mkdir()
    etc.write_text("version: 1\n")
    assert config_path({}, system=etc) == etc
    systemd = {"CONFIGURATION_DIRECTORY": "/etc/watcher:/etc/other"}
    assert config_path(systemd, system=etc) == Path("/etc/watcher/indicators.yaml")
    assert config_path({**systemd, "WATCHER_CONFIG": "/srv/w.yaml"}, system=etc) == Path(
        "/srv/w.yaml")
    assert config_path({"WATCHER_CONFIG": " "}, system=etc) == etc      # empty is unset


def test_systemd_state_directory_is_used_and_watcher_state_dir_wins() -> None:
    s = load_settings({"STATE_DIRECTORY": "/var/lib/watcher:/var/lib/other"})
    assert s.state_dir == Path("/var/lib/watcher")
    assert s.database_url == "sqlite:////var/lib/watcher/watcher.db"
    assert s.outbox_dir == Path("/var/lib/watcher/outbox")
    s = load_settings({"STATE_DIRECTORY": "/var/lib/watcher", "WATCHER_STATE_DIR": "/srv/w"})
    assert s.state_dir == Path("/srv/w")


def test_explicit_values(tmp_path: Path) -> None:
    s = load_settings({
        "WATCHER_CONFIG": "/etc/watcher/indicators.yaml",
        "WATCHER_DATABASE_URL": "postgresql://db/watcher",
        "WATCHER_OUTBOX_DIR": str(tmp_path),
        "WATCHER_SENDER": "Watcher <w@example.org>",
        "WATCHER_LOG_LEVEL": "debug",
        "WATCHER_SMTP_URL": "smtp+starttls://mail.example.org",
        "WATCHER_SMTP_USER": "bob",
        "WATCHER_SMTP_PASSWORD": "env-pw",
    })
    assert s.config_path == Path("/etc/watcher/indicators.yaml")
    assert s.database_url == "postgresql://db/watcher"
    assert s.outbox_dir == tmp_path
    assert s.sender == "Watcher <w@example.org>" and s.log_level == "DEBUG"
    assert (s.smtp_user, s.smtp_password) == ("bob", "env-pw")
    assert s.redacted_smtp_url == "smtp+starttls://bob@mail.example.org:587"


def test_empty_values_count_as_unset() -> None:
    assert load_settings({"WATCHER_SMTP_URL": "", "WATCHER_CONFIG": " "}) == load_settings({})


def test_credentials_come_from_the_url_when_nothing_else_is_set() -> None:
    s = load_settings({"WATCHER_SMTP_URL": "smtps://bob%40corp:p%40ss@mail.example.org:2465"})
    assert (s.smtp_user, s.smtp_password) == ("bob@corp", "p@ss")
    assert s.smtp_url == "smtps://mail.example.org:2465"
    assert s.redacted_smtp_url == "smtps://bob@corp@mail.example.org:2465"


def test_systemd_credential_beats_the_url_and_loses_to_the_env(tmp_path: Path) -> None:
    (tmp_path / "smtp-password").write_text("cred-pw\n")
    env = {"WATCHER_SMTP_URL": "smtp://bob:url-pw@mail.example.org",
           "CREDENTIALS_DIRECTORY": str(tmp_path)}
    assert load_settings(env).smtp_password == "cred-pw"
    assert load_settings({**env, "WATCHER_SMTP_PASSWORD": "env-pw"}).smtp_password == "env-pw"
    (tmp_path / "smtp-password").unlink()
    assert load_settings(env).smtp_password == "url-pw"


def test_password_is_in_no_repr_or_url() -> None:
    s = load_settings({"WATCHER_SMTP_URL": "smtp://bob:url-pw-42@mail.example.org"})
    assert s.smtp_password == "url-pw-42"
    for shown in (repr(s), str(s), s.smtp_url or "", s.redacted_smtp_url or ""):
        assert "url-pw-42" not in shown


def test_bad_scheme() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"WATCHER_SMTP_URL": "x://user:pw-secret@mail.example.org"})
    assert caught.value.problems == [
        "WATCHER_SMTP_URL: unsupported scheme 'x' (use smtp://, smtp+starttls:// or smtps://)"]
    assert "pw-secret" not in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"WATCHER_SMTP_URL": "smtp://pw-secret@mail.example.org:99999",
                       "WATCHER_LOG_LEVEL": "chatty", "WATCHER_SENDER": "nobody"})
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "WATCHER_SMTP_URL", "WATCHER_SENDER", "WATCHER_LOG_LEVEL"]
    assert "pw-secret" not in str(caught.value)
    assert "environment" in str(caught.value)


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHER_CONFIG", "from-env.yaml")
    assert load_settings().config_path == Path("from-env.yaml")


@pytest.mark.parametrize(("name", "field", "default"), [
    ("WATCHER_FETCH_TIMEOUT", "fetch_timeout", 60.0),
    ("WATCHER_DB_BUSY_TIMEOUT", "db_busy_timeout", 10.0),
    ("WATCHER_SMTP_TIMEOUT", "smtp_timeout", 60.0)])
def test_timeouts_are_read_and_a_bad_one_is_named(name: str, field: str, default: float) -> None:
    assert getattr(load_settings({}), field) == default
    assert getattr(load_settings({name: "2.5"}), field) == 2.5
    for bad in ("soon", "0", "-3", "99999"):
        with pytest.raises(ConfigError, match=name):
            load_settings({name: bad})
