"""The JSON Schema of indicators.yaml, from the config models (issue 18).

`watcher check --schema > indicators.schema.json` writes it; indicators.yaml's first line
(`# yaml-language-server: $schema=./indicators.schema.json`) points editors at it, so they
complete keys and flag a typo or a wrong type as the maintainer types. It describes the file
as written: a term set may be named ("$KZ") where its terms could stand, and an example may
be its title alone. `watcher check` stays the authority (line numbers, rule semantics, the
examples run as tests); tests/test_schema.py keeps the committed file current.
"""

from __future__ import annotations

from typing import Any

from watcher.config.models import Config

SCHEMA_FILE = "indicators.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
TERM_ITEM = {
    "description": "A term (a phrase; a word ending in * is a prefix), the \"$name\" of a set "
                   "under terms:, or a list of those.",
    "anyOf": [{"type": "string", "minLength": 1},
              {"type": "array", "items": {"$ref": "#/$defs/TermItem"}}]}
VETO_ITEM = {
    "description": "A term or \"$name\" that vetoes the match, a {title: …} or {summary: …} "
                   "mapping that vetoes from that field only, or a list of those.",
    "anyOf": [{"type": "string", "minLength": 1}, {"$ref": "#/$defs/FieldTerms"},
              {"type": "array", "items": {"$ref": "#/$defs/VetoItem"}}]}


def indicators_schema() -> dict[str, Any]:
    """The schema of the whole file (validation mode: what may be written)."""
    schema = _linked(Config.model_json_schema(mode="validation"))
    schema["$defs"].update(TermItem=TERM_ITEM, VetoItem=VETO_ITEM)
    return {"$schema": DIALECT, "$id": SCHEMA_FILE, **schema, "title": "watcher indicators.yaml"}


def _linked(node: Any) -> Any:
    """The rules' placeholders ({"x-watcher": NAME}) as references to the definition NAME."""
    if isinstance(node, dict):
        if set(node) == {"x-watcher"}:
            return {"$ref": f"#/$defs/{node['x-watcher']}"}
        return {key: _linked(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_linked(value) for value in node]
    return node
