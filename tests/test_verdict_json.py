"""The machine-readable verdict (issue 12): the documented shape, checked against the JSON
Schema in docs/verdict.schema.json."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.conftest import ROOT, at
from tests.test_tracks import CFG, DEAL, JOINS, decision, events, report
from watcher.judge.criterion import evaluate
from watcher.models import Coverage
from watcher.report.balance import balance_of
from watcher.report.verdict import verdict_object

SCHEMA = json.loads((ROOT / "docs" / "verdict.schema.json").read_text(encoding="utf-8"))


def check(obj: dict[str, object]) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(json.loads(json.dumps(obj)), SCHEMA,
                        cls=jsonschema.Draft202012Validator)


def test_a_verdict_with_every_part_matches_the_schema() -> None:
    single = events(report("Kazakhstan, US sign critical minerals agreement", "2026-02-10",
                           "https://astanatimes.com/m"))
    signed = events(report("Kazakhstan formally signs Abraham Accords at White House ceremony",
                           "2026-04-02", "https://www.state.gov/kz", "official"))
    evs = events(DEAL) + events(JOINS) + single + signed
    no = decision("dismiss", events(JOINS)[0], "2026-07-11", by="bob", note="an opinion poll")
    cov = Coverage(200, 30, 5000, 1, 3000, 400, poor=False)
    v = evaluate(CFG, evs, at("2026-08-01"), cov, decisions=(no,))
    obj = verdict_object(v, balance_of(evs, CFG, v.now))
    check(obj)
    assert obj["as_of"] == "2026-08-01" and obj["state"] == "FOLLOW-UP"
    deals = obj["tracks"][0]
    assert deals["id"] == "deals" and deals["state"] == "FOLLOW-UP"
    assert deals["since"] == "2026-01-21"
    (ev,) = deals["counting"]
    assert ev["urls"] == ["https://www.timesofisrael.com/kz-water", "https://astanatimes.com/2026/01/water"]
    assert ev["sources"] == 2 and ev["happened"] == "2026-01-20" and ev["reason"] is None
    assert [c["reason"] for c in obj["candidates"]] == ["single source awaiting review"]
    assert obj["formalization"]["stage"] == "signed"
    assert obj["decisions"][0]["by"] == "bob"


@pytest.mark.parametrize("broken", [
    {"state": "MAYBE"},
    {"tracks": []},
    {"as_of": "7 May 2026"},
])
def test_the_schema_rejects_what_the_shape_does_not_allow(broken: dict[str, object]) -> None:
    obj = verdict_object(evaluate(CFG, [], at("2026-01-01")))
    check(obj)
    with pytest.raises(jsonschema.ValidationError):
        check({**obj, **broken})
