"""Optional extras (issue 18): Apprise is `[notify]`; without it, WATCHER_NOTIFY_URLS is a
one-line configuration error naming the extra, not a traceback at the first send.

The one mock: a process in which Apprise cannot be imported. The suite's venv has it, so
the child runs with a sitecustomize.py that puts None in sys.modules["apprise"], which is
what Python's import system reads as "this module is not there". (CI's installed-wheel
job meets the real thing: its `--user` smoke test installs no extras.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.feedserver import child_env

MINI = ROOT / "tests" / "fixtures" / "mini.yaml"


def score(tmp_path: Path, block_apprise: bool) -> subprocess.CompletedProcess[str]:
    """`watcher score` of no items (it reads the settings and the config) with a channel."""
    env = child_env(WATCHER_CONFIG=str(MINI), WATCHER_STATE_DIR=str(tmp_path / "state"),
                    WATCHER_NOTIFY_URLS="json://127.0.0.1:9/hook")
    if block_apprise:
        site = tmp_path / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text("import sys\nsys.modules['apprise'] = None\n")
        env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-m", "watcher", "score"], env=env, input="",
                          capture_output=True, text=True, timeout=120, check=False)


def test_notify_urls_without_apprise_name_the_extra(tmp_path: Path) -> None:
    result = score(tmp_path, block_apprise=True)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[0] == (
        "WATCHER_NOTIFY_URLS is set but Apprise is not installed: "
        "pip install 'watcher-indicators[notify]'")
    assert "Traceback" not in result.stderr


def test_with_apprise_the_same_settings_are_fine(tmp_path: Path) -> None:
    result = score(tmp_path, block_apprise=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
