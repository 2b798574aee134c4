"""HTML → the text a reader sees, with lxml's HTML parser (libxml2). Pure.

A regular expression cannot read HTML: `<!-- tracking > pixel --><p title="a>b">Kazakhstan`
left `pixel --> b">Kazakhstan` behind. Here the markup is parsed, so comments, processing
instructions, attributes, scripts and styles never reach the text; entities are decoded; block
elements (paragraphs, list items, headings, line breaks, table rows) end a sentence, so the
matcher's clause rules still see where one statement ends and the next begins; inline elements
vanish without a trace ("<em>Thu</em>." is "Thu."). Broken markup is repaired the way
browsers do; the input is capped by the caller, and the walk over the tree is iterative, so a
hostile document costs time in proportion to its size, never a deep recursion.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

from lxml import etree

from watcher.text import INVISIBLE, drop_invisible


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Elements whose end is the end of a statement (a sentence break in the text).
BLOCKS = _tags("""p div br li ul ol dl dt dd h1 h2 h3 h4 h5 h6 tr table thead tbody tfoot
    caption blockquote pre section article header footer aside nav figure figcaption hr address
    main form fieldset details summary legend center""")
# Elements whose content is not text for a reader.
HIDDEN = _tags("""script style noscript template iframe object embed applet head svg math
    select textarea button""")
# Elements that run into the words around them ("Thu<em>rsday</em>" is one word).
INLINE = _tags("""a b i u s em strong span font abbr acronym code small sub sup mark q cite
    time big tt var kbd samp dfn ins del bdi bdo wbr label data nobr""")
# A sentence already ends here; otherwise a full stop is added at a block's end.
_ENDS = frozenset(".!?;:…。！？؛؟")
_MAY_BE_MARKUP = re.compile(r"[<&]")
_BREAK = "\u2029"           # the paragraph separator marks a block's edge while joining
# What lxml refuses or misreads: characters XML does not allow (NUL becomes U+FFFD, a lone
# surrogate ends the text, a control cannot be written back into the tree), and our mark.
_UNPARSEABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\u2029]")
# A tag longer than this is no markup a reader sees; thousands of attributes in one tag cost
# libxml2 time quadratic in their number (10,000: 0.27 s), so it is dropped before parsing.
_HUGE_TAG = re.compile(r"<[^<>]{2000,}>")
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True,
                           recover=True, default_doctype=False, compact=True)


def strip_html(text: str) -> str:
    """HTML fragment → plain text: markup gone, entities decoded, blocks ended as sentences,
    invisible characters dropped, spaces folded."""
    if _MAY_BE_MARKUP.search(text) is not None:
        for bad in (_UNPARSEABLE, _HUGE_TAG):
            if bad.search(text) is not None:
                text = bad.sub(" ", text)
        text = _parsed_text(text)
    return " ".join(drop_invisible(_controls_to_spaces(text)).split())


def _parsed_text(text: str) -> str:
    """The text of an HTML fragment as a reader sees it, blocks ended as sentences."""
    try:
        root = etree.fromstring(text, _PARSER)
    except (etree.ParserError, ValueError):     # nothing parseable (e.g. only markup)
        root = None
    if root is None:
        return html.unescape(text) if "<" not in text else ""
    return _sentences(_marked_text(root))


def _marked_text(root: Any) -> str:
    """The tree's text in reading order, _BREAK where a block starts or ends and a space around
    other non-inline elements (a table cell, an image). The marks are written into the tree so
    that lxml, not a Python loop over events, joins the text."""
    etree.strip_elements(root, *HIDDEN, with_tail=False)
    for el in root.iter():
        tag = el.tag
        if tag in INLINE or not isinstance(tag, str):
            continue
        mark = _BREAK if tag in BLOCKS else " "
        el.text = mark + el.text if el.text else mark
        el.tail = mark + el.tail if el.tail else mark
    return "".join(root.itertext())


def _sentences(marked: str) -> str:
    """Each block's text becomes a sentence (a full stop added if it has none)."""
    blocks = [b for b in (" ".join(part.split()) for part in marked.split(_BREAK)) if b]
    return " ".join([_ended(b) for b in blocks[:-1]] + blocks[-1:])


def _ended(block: str) -> str:
    last = block[-1]
    return block if last in _ENDS or not (last.isalnum() or last in "\"'»”’)]") else block + "."


def _controls_to_spaces(text: str) -> str:
    """Every control, format or unassigned character (category C) but tab and newline → space.

    lxml refuses NUL and most controls; decided once per distinct character, not per
    character: a 10 KB summary has ~100."""
    if text.isascii():
        return _ASCII_CONTROLS.sub(" ", text) if _ASCII_CONTROLS.search(text) else text
    bad = {ch for ch in set(text) if unicodedata.category(ch)[0] == "C"} - _KEPT
    return text.translate(dict.fromkeys(map(ord, bad), " ")) if bad else text


_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_KEPT = {"\t", "\n"} | INVISIBLE      # invisible characters are dropped, not made spaces
