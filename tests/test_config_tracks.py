"""criterion.tracks and criterion.formalization in indicators.yaml: validated at load, every
mistake named with its line; `follow_up` still accepted (issue 12)."""

from __future__ import annotations

from tests.conftest import ROOT
from tests.test_config import line_of, problems
from watcher.config import parse_config

MINI = (ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8")
SHIPPED = (ROOT / "indicators.yaml").read_text(encoding="utf-8")
TRACKS = """  tracks:
    - {id: signatories, title: additional signatories, indicators: [expansion]}
    - {id: deals, title: deals, indicators: [kz_israel_deal]}
"""


def with_tracks(tracks: str, follow_up: str | None = None) -> str:
    old = "  follow_up: [expansion, kz_israel_deal]\n"
    return MINI.replace(old, (f"  follow_up: {follow_up}\n" if follow_up else "") + tracks)


def test_tracks_replace_follow_up_and_resolve_groups() -> None:
    cfg = parse_config(with_tracks(TRACKS))
    assert [(t.id, cfg.resolve(t.indicators)) for t in cfg.tracks] == [
        ("signatories", ["new_signatory"]), ("deals", ["kz_israel_deal"])]
    assert cfg.track_of("new_signatory") == "signatories"
    assert cfg.track_of("domestic_backlash") is None


def test_follow_up_given_with_tracks_must_agree_else_its_line_is_named() -> None:
    assert parse_config(with_tracks(TRACKS, "[expansion, kz_israel_deal]")).criterion.follow_up
    text = with_tracks(TRACKS, "[expansion]")
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'follow_up:')}:") and "kz_israel_deal" in msg


def test_an_unknown_or_doubled_indicator_in_a_track_is_named_at_its_line() -> None:
    text = with_tracks(TRACKS.replace("[kz_israel_deal]", "[kz_israeli_deal]"))
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'kz_israeli_deal')}:")
    assert "names no indicator" in msg
    text = with_tracks(TRACKS.replace("[kz_israel_deal]", "[kz_israel_deal, new_signatory]"))
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'id: deals')}:")
    assert "already in tracks signatories" in msg


def test_a_formalization_indicator_cannot_count_as_follow_up() -> None:
    text = with_tracks(TRACKS + "  formalization:\n    - {id: announced, title: announced}\n"
                       "    - {id: signed, title: signed, indicators: [kz_israel_deal]}\n")
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'id: signed')}:")
    assert "formalization never counts" in msg


def test_a_stage_rule_is_checked_like_any_rule_and_may_use_term_sets() -> None:
    court = "near: [{a: $CONST_COURT, b: $CC_RULED"
    assert SHIPPED.count(court) == 1
    text = SHIPPED.replace(court, "naer: [{a: $CONST_COURT, b: $CC_RULED")
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'naer:')}:") and "unknown key" in msg
    text = SHIPPED.replace(court, "near: [{a: $KZ_COURTS, b: $CC_RULED")
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, '$KZ_COURTS')}:") and "unknown term set" in msg


def test_no_tracks_and_no_follow_up_is_an_error() -> None:
    text = with_tracks("")
    assert any("criterion.tracks" in p for p in problems(text))


def test_corroboration_is_a_small_positive_number() -> None:
    text = MINI.replace("  threshold: 3.0", "  threshold: 3.0\n  corroboration: 0")
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'corroboration: 0')}:")


def test_grouping_names_only_known_term_sets() -> None:
    text = SHIPPED.replace("  actors: [KZ, ", "  actors: [KZZ, KZ, ")
    (msg,) = problems(text)
    assert "grouping names no term set: KZZ" in msg
