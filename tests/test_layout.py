"""The package's rooms keep their walls: who may import what (issue 11).

- Only watcher/store/ touches the database: no other module imports SQLAlchemy, SQLModel,
  Alembic or the store's inner modules (tables, engine, rooms); they use `watcher.store`
  (the Store and its records). watcher/dbcopy.py is the one exception: it copies tables
  whatever they hold, and its docstring says so.
- The judge is the pure core: it imports only models, config, text, errors and itself, so
  matching, events, scores and the criterion never reach a database, a feed or a mailbox.
- No module grows past 500 lines (a module past ~400 is two modules).
- What crosses the store's boundary is a frozen record or a plain value, never a row or a
  bare tuple.
"""

from __future__ import annotations

import ast
import dataclasses
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import pytest
from pydantic import BaseModel

from tests.conftest import ROOT

PACKAGE = ROOT / "watcher"
DATABASE_LIBRARIES = ("sqlalchemy", "sqlmodel", "alembic", "psycopg")
MAY_USE_THE_DATABASE = {"watcher/dbcopy.py"}
JUDGE_MAY_IMPORT = ("watcher.models", "watcher.config", "watcher.text", "watcher.errors",
                    "watcher.judge")
MAX_LINES = 500


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imports(path: Path) -> list[str]:
    """Every module a file imports, at the top or inside a function, absolute names."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            if node.module.startswith("watcher"):     # `from watcher.store import schema`
                found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def within(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


def outside_the_store() -> list[Path]:
    return [p for p in modules() if not name(p).startswith("watcher/store/")
            and name(p) not in MAY_USE_THE_DATABASE]


@pytest.mark.parametrize("path", outside_the_store(), ids=name)
def test_only_the_store_touches_the_database(path: Path) -> None:
    bad = [m for m in imports(path) if within(m, DATABASE_LIBRARIES) or _store_inner(m)]
    assert bad == [], f"{name(path)} imports {bad}: go through watcher.store (Store, records)"


def _store_inner(module: str) -> bool:
    """watcher.store.X other than the facade and its records (watcher.store.Store is fine)."""
    if not module.startswith("watcher.store."):
        return False
    inner = module.removeprefix("watcher.store.").split(".")[0]
    return inner in {p.stem for p in (PACKAGE / "store").glob("*.py")} - {"__init__", "records"}


@pytest.mark.parametrize("path", sorted((PACKAGE / "judge").glob("*.py")), ids=name)
def test_the_judge_imports_only_the_core(path: Path) -> None:
    bad = [m for m in imports(path) if m.startswith("watcher") and not within(m, JUDGE_MAY_IMPORT)]
    outside = [m for m in imports(path) if within(m, DATABASE_LIBRARIES + ("httpx", "smtplib",
                                                                            "apprise", "jinja2"))]
    assert bad + outside == [], f"{name(path)} imports {bad + outside}: the judge is pure"


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    """The checks above would see a forbidden import (a rule that cannot fail proves nothing)."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from watcher.store.schema import ITEM\n"
                      "    import sqlalchemy as sa\nfrom watcher.ingest import poll\n")
    found = imports(module)
    assert _store_inner("watcher.store.schema") and not _store_inner("watcher.store.Store")
    assert "sqlalchemy" in found and "watcher.store.schema" in found
    assert "watcher.ingest.poll" in found
    assert not within("watcher.ingest.poll", JUDGE_MAY_IMPORT) and within(
        "watcher.judge.x", JUDGE_MAY_IMPORT
    )


@pytest.mark.parametrize("path", modules(), ids=name)
def test_no_module_is_longer_than_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name(path)} has {lines} lines: split it into two modules"


# What may cross the store's boundary: plain values, frozen records, enums, the config's
# frozen models; never a row, a Connection or a bare tuple.
_PLAIN = (int, float, str, bool, bytes, type(None), datetime, timedelta)


def _allowed(tp: Any) -> bool:
    origin = get_origin(tp)
    if origin is tuple:
        return False
    if origin is not None:          # list[X], dict[K, V], X | None, Iterator[X], Iterable[X]
        return all(_allowed(arg) for arg in get_args(tp))
    if tp in _PLAIN or (isinstance(tp, type) and issubclass(tp, Enum)):
        return True
    if dataclasses.is_dataclass(tp):
        return bool(tp.__dataclass_params__.frozen)
    return isinstance(tp, type) and issubclass(tp, BaseModel) and tp.model_config.get("frozen")


def store_methods() -> list[str]:
    from watcher.store import Store
    from watcher.store.base import Database
    return sorted(n for n in dir(Store) if not n.startswith("_") and callable(getattr(Store, n))
                  and not hasattr(Database, n))


@pytest.mark.parametrize("method", store_methods())
def test_the_store_takes_and_returns_records_never_rows_or_tuples(method: str) -> None:
    from watcher.store import Store
    hints = get_type_hints(getattr(Store, method))
    bad = {name: tp for name, tp in hints.items() if not _allowed(tp)}
    assert bad == {}, f"Store.{method} passes {bad}: use a frozen record (store/records.py)"


def test_the_record_check_refuses_rows_and_tuples() -> None:
    from sqlalchemy import Row

    @dataclasses.dataclass
    class Loose:
        x: int

    assert not _allowed(tuple[str, int]) and not _allowed(list[tuple[int, str]])
    assert not _allowed(Row) and not _allowed(Loose) and _allowed(list[int] | None)
