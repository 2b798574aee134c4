"""indicators.yaml → `Config`, parsed once at the edge, every problem named with its line.

Every problem is reported as `file:line: what is wrong` (never a traceback); unknown
keys are rejected so a typo cannot silently disable a rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from watcher.config.criterion import criterion_problems
from watcher.config.models import Config
from watcher.config.terms import Path_, expand_term_sets
from watcher.errors import ConfigError


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that refuses duplicate keys (PyYAML would keep the last silently).

    LibYAML's parser when PyYAML has it: the pure-Python scanner took 3.5 of the 5 s of a
    1,000-feed `watcher poll` that found nothing new (profile, issue #6)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _lines(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[path + (key,)] = key_node.start_mark.line + 1
            _lines(value_node, path + (key,), out)
            out[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _lines(child, path + (i,), out)


def _synthetic(part: Any) -> bool:
    """Loc parts pydantic adds that are not YAML keys (validators, union tags)."""
    return isinstance(part, str) and part.startswith(("function-", "tag:"))


def _line_for(loc: tuple[Any, ...], lines: dict[Path_, int]) -> int:
    path = tuple(p for p in loc if not _synthetic(p))
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _describe(err: Any) -> str:
    loc = ".".join(str(p) for p in err["loc"] if not _synthetic(p))
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling)"
    return f"{loc}: {msg}" if loc else msg


MAX_DEPTH = 64                 # the shipped file nests 6 deep
MAX_ALIAS_VALUES = 200_000     # values aliases may add beyond those written (or as many as written)


class _Shape:
    """What the event stream says about a document before it is composed: how deep it
    nests, how many values it writes out, how many more its aliases add.

    An alias stands for its whole anchored value, so anything that walks the loaded data
    (validation, line numbers) walks that value again at each alias: "billion laughs"
    makes billions of values from a few lines. Sizes are counted per anchor, so the check
    costs one pass over the text, not the expansion it measures."""

    def __init__(self, name: str, length: int) -> None:
        self.name = name
        self.length = length       # no file writes more values than it has characters
        self.depth = self.written = self.added = 0
        # the collections not ended yet: (anchor, values counted when it started)
        self.open: list[tuple[str | None, int]] = []
        self.sizes: dict[str, int] = {}
        self.first_over: int | None = None             # line of the alias past MAX_ALIAS_VALUES

    def count(self, ev: yaml.Event, line: int) -> None:
        if isinstance(ev, yaml.AliasEvent):
            self._alias(ev.anchor, line)
        elif isinstance(ev, yaml.CollectionStartEvent):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                self._refuse(line, f"nested more than {MAX_DEPTH} deep: "
                                   "too deep to be an indicators file")
            self.written += 1
            self.open.append((ev.anchor, self.written + self.added))
        elif isinstance(ev, yaml.CollectionEndEvent):
            self.depth -= 1
            anchor, start = self.open.pop()
            if anchor is not None:
                self.sizes[anchor] = self.written + self.added - start + 1
        elif isinstance(ev, yaml.ScalarEvent):
            self.written += 1
            if ev.anchor is not None:
                self.sizes[ev.anchor] = 1

    def _alias(self, anchor: str | None, line: int) -> None:
        if any(anchor == name for name, _ in self.open):
            self._refuse(line, f"the YAML alias *{anchor} refers to the list or mapping "
                               "that contains it")
        self.added += self.sizes.get(anchor or "", 0)   # an unknown anchor: the composer says so
        if self.added > MAX_ALIAS_VALUES and self.first_over is None:
            self.first_over = line
        if self.added > max(MAX_ALIAS_VALUES, self.length):     # over the limit whatever follows
            self._too_many(line)

    def finish(self) -> None:
        if self.added > max(MAX_ALIAS_VALUES, self.written):
            self._too_many(self.first_over or 1)

    def _too_many(self, line: int) -> None:
        self._refuse(line, f"YAML aliases add over {self.added:,} values (at most "
                           f"{MAX_ALIAS_VALUES:,}, or as many as the file writes out): "
                           "write the lists out")

    def _refuse(self, line: int, problem: str) -> None:
        raise ConfigError([f"{self.name}:{line}: {problem}"])


def _check_shape(text: str, name: str) -> None:
    """Refuse absurd nesting and alias bombs from the event stream (no recursion), with the
    line where it happens; a large file with no aliases is never refused here."""
    shape = _Shape(name, len(text))
    for ev in yaml.parse(text, Loader=_LineLoader):
        shape.count(ev, ev.start_mark.line + 1 if ev.start_mark else 1)
    shape.finish()


def _construct(node: yaml.Node | None) -> Any:
    """Python objects from a composed document, with _LineLoader's constructors."""
    if node is None:
        return None
    loader = _LineLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_config(text: str, name: str = "indicators.yaml") -> Config:
    """Parse and validate; raise ConfigError listing every problem as `name:line: ...`."""
    try:
        _check_shape(text, name)           # before composing: LibYAML's composer recurses in C
        node = yaml.compose(text, Loader=_LineLoader)
        data = _construct(node)            # from the nodes already composed: parsed once
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([f"{name}:{line}: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{name}:1: not valid YAML: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{name}:1: nested too deeply to be an indicators file"]) from None
    if not isinstance(data, dict) or node is None:
        raise ConfigError([(f"{name}:1: expected a mapping with version, baseline, criterion, "
                            "digest, feeds and indicators")])
    lines: dict[Path_, int] = {}
    _lines(node, (), lines)
    unresolved = expand_term_sets(data)
    if unresolved:
        raise ConfigError([f"{name}:{_line_for(path, lines)}: {msg}" for path, msg in unresolved])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = [f"{name}:{_line_for(e['loc'], lines)}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError(problems) from None
    wrong = criterion_problems(config)
    if wrong:
        raise ConfigError([f"{name}:{_line_for(path, lines)}: {msg}" for path, msg in wrong])
    return config


def load_config(path: Path) -> Config:
    """Read indicators.yaml from disk (see parse_config)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}:1: not UTF-8 text"]) from None
    return parse_config(text, str(path))


def config_lines(text: str) -> dict[Path_, int]:
    """Line of every key and list entry (e.g. ('indicators', 3, 'examples', 'match', 0))."""
    lines: dict[Path_, int] = {}
    node = yaml.compose(text, Loader=_LineLoader)
    if node is not None:
        _lines(node, (), lines)
    return lines
