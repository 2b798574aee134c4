"""HTML to text with lxml (issue 13): markup never leaks into what the rules read, blocks end
sentences so the clause rules still see them, and hostile markup is bounded."""

from __future__ import annotations

import time

import pytest

from tests.conftest import ROOT
from watcher.config import load_config
from watcher.ingest.markup import strip_html
from watcher.ingest.parse import parse_feed
from watcher.judge.match import Matcher
from watcher.models import Certainty
from watcher.text import tokens

MINI = ROOT / "tests" / "fixtures" / "mini.yaml"


@pytest.mark.parametrize(("html", "text"), [
    # the issue's case: the regex left 'pixel --> b">Kazakhstan …' behind
    ('<!-- tracking > pixel --><p title="a>b">Kazakhstan signs deal</p>',
     "Kazakhstan signs deal"),
    ('<img alt="Israel flag" src="x.png">Kazakhstan <a href="/israel">signs</a> deal',
     "Kazakhstan signs deal"),
    (("<script>var israel = '>';</script>Hello<style>p:after{content:'>'}</style> world"
     "<noscript>Israel</noscript>"), "Hello world"),
    ("AT&amp;T &quot;Q&amp;A&quot; &#1179;&#x4D9; &nbsp;&copy; 2026", 'AT&T "Q&A" қә © 2026'),
    ("&lt;p&gt;escaped markup is text&lt;/p&gt;", "<p>escaped markup is text</p>"),
    ("<em>Thu</em>. Deal signed", "Thu. Deal signed"),
    ("Kaz<b>akh</b>stan", "Kazakhstan"),
    ("<table><tr><td>Astana</td><td>Almaty</td></tr><tr><td>Aktau</td></tr></table>",
     "Astana Almaty. Aktau"),
    ("<b>unclosed <i>tags <p>and a stray < sign", "unclosed tags. and a stray < sign"),
    ("<html><head><title>Site</title></head><body><p>Body</p></body></html>", "Body"),
    ("<![CDATA[hidden]]>seen<?php echo 1 ?>", "seen"),
    ("plain text with no markup", "plain text with no markup"),
    ("zero\u200bwidth\u202eand\x00nul\x1fcontrol", "zerowidthand nul control"),
])
def test_markup_comments_attributes_and_scripts_never_leak(html: str, text: str) -> None:
    assert strip_html(html) == text


@pytest.mark.parametrize(("html", "text"), [
    ("<p>Kazakhstan signs deal</p><p>Israel objects</p>", "Kazakhstan signs deal. Israel objects"),
    ("<ul><li>one</li><li>two!</li></ul>after", "one. two! after"),
    ("Astana<br>Kazakhstan<br/>Israel", "Astana. Kazakhstan. Israel"),
    ("<h2>Big news</h2>Details here", "Big news. Details here"),
    ("<div>Says “yes”</div><div>Next</div>", "Says “yes”. Next"),
    ("<p>Already ended.</p><p>Also: </p><p>last</p>", "Already ended. Also: last"),
])
def test_block_elements_end_sentences(html: str, text: str) -> None:
    assert strip_html(html) == text


def test_clause_rules_see_the_blocks() -> None:
    """A list of two reports: the second's "reportedly" no longer makes the first expected."""
    summary = ("<ul><li>Kazakhstan and Israel signed a water agreement</li>"
               "<li>Uzbekistan reportedly considering the Abraham Accords</li></ul>")
    _, clauses = tokens(strip_html(summary))
    assert len(set(clauses)) == 2
    (deal,) = [m for m in Matcher(load_config(MINI)).match("The week in brief",
                                                           strip_html(summary))
               if m.indicator == "kz_israel_deal"]
    assert deal.certainty is Certainty.CONFIRMED
    # what the old regex gave: one run of words, the cue in the deal's clause
    run_on = ("Kazakhstan and Israel signed a water agreement Uzbekistan reportedly considering "
              "the Abraham Accords")
    (old,) = [m for m in Matcher(load_config(MINI)).match("The week in brief",
                                                          run_on)
              if m.indicator == "kz_israel_deal"]
    assert old.certainty is Certainty.EXPECTED


def test_a_feed_summary_reaches_the_item_clean() -> None:
    body = (b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>
<title>Kazakhstan &amp; Israel</title><link>https://kz.example/1</link>
<description><![CDATA[<!-- tracking > pixel --><p title="a>b">Kazakhstan and Israel signed</p>
<p>a water deal<img src="https://t.example/p.gif?israel>1"></p>]]></description>
</item></channel></rss>""")
    (item,) = parse_feed("f", body).items
    assert item.title == "Kazakhstan & Israel"
    assert item.summary == "Kazakhstan and Israel signed. a water deal"


N = 200_000
HOSTILE = {
    "deep nesting": "<div>" * (N // 5) + "text" + "</div>" * (N // 5),
    "a flood of <": "<" * N,
    "unclosed comment": "Kazakhstan <!-- " + "x" * N,
    "10,000 attributes": "<p " + " ".join(f'a{i}="{i}"' for i in range(10_000)) + ">t</p>",
    "entities": "&amp;" * (N // 5) + "&#99999999;&#0;&#xD800;",
    "line breaks": "<br>" * (N // 4),
    "unclosed script": "<script>" + "x" * N,
    "surrogates and controls": "<p>a\ud800b\x01c\ufffe</p>" * (N // 20),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_markup_is_bounded(name: str) -> None:
    started = time.monotonic()
    text = strip_html(HOSTILE[name])
    assert time.monotonic() - started < 2, name        # milliseconds here; a blow-up is seconds
    assert "<!--" not in text and "script" not in text and "\ud800" not in text
    assert len(text) <= len(HOSTILE[name])
