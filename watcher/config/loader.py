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
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# The shipped file expands to about 3,200 values; aliases nested in aliases can make billions.
MAX_VALUES = 200_000


def _check_expansion(root: yaml.Node, name: str) -> None:
    """Refuse alias bombs and self-referring aliases before anything walks the expanded tree.

    Sizes are memoised per node, so this costs the number of distinct nodes, not the
    expansion it measures."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known == -1:
            raise ConfigError([(f"{name}:{node.start_mark.line + 1}: a YAML alias refers to "
                                "the list or mapping that contains it")])
        if known is not None:
            return known
        sizes[id(node)] = -1
        total = 1
        children = ([c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode)
                    else node.value if isinstance(node, yaml.SequenceNode) else [])
        for child in children:
            total += size(child)
            if total > MAX_VALUES:
                raise ConfigError([(f"{name}:{node.start_mark.line + 1}: expands to more than "
                                    f"{MAX_VALUES:,} values (YAML aliases nested in aliases); "
                                    "write the lists out")])
        sizes[id(node)] = total
        return total

    size(root)


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


MAX_DEPTH = 64        # the shipped file nests 6 deep


def _check_depth(text: str, name: str) -> None:
    """Refuse absurd nesting from the event stream (no recursion), with its line."""
    depth = 0
    for ev in yaml.parse(text, Loader=_LineLoader):
        if isinstance(ev, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = ev.start_mark.line + 1 if ev.start_mark else 1
                raise ConfigError([(f"{name}:{line}: nested more than "
                                    f"{MAX_DEPTH} deep: too deep to be an indicators file")])
        elif isinstance(ev, yaml.CollectionEndEvent):
            depth -= 1


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
        _check_depth(text, name)           # before composing: LibYAML's composer recurses in C
        node = yaml.compose(text, Loader=_LineLoader)
        if node is not None:
            _check_expansion(node, name)
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
