"""Does a learned second stage pay? (issue 13, item 6) — prints the figures, ships nothing.

A small classifier (scikit-learn: TF-IDF over character n-grams, logistic regression) is trained
on the labelled sets in tests/fixtures (heldout*.jsonl) to tell events from non-events
(`labels: [none]`), and used after the rules: a rule's match is kept only when the classifier
does not call the item a non-event. It is measured honestly, by set: for each set, the
classifier is trained on the other sets only and applied to this one (leave one set out), and
the rules alone and rules + classifier are scored with the same micro precision, recall and
false positives on 'none' items as `watcher eval`, with summaries and with titles only. The
devset (../shared/devset), never used for training, is scored by a classifier trained on every
fixture set.

    .venv/bin/pip install scikit-learn   # not a dependency of watcher
    .venv/bin/python benchmarks/learned_filter.py [--threshold 0.5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from watcher.config import load_config
from watcher.judge.evaluate import Evaluation, Labeled, _count, hits, load_labeled
from watcher.judge.match import Matcher
from watcher.judge.publisher import without_publisher

FIXTURES = sorted((ROOT / "tests" / "fixtures").glob("heldout*.jsonl"))
DEVSET = ROOT.parent / "shared" / "devset" / "headlines.jsonl"


def text_of(it: Labeled, titles_only: bool) -> str:
    title = without_publisher(it.title, it.publisher)
    return title if titles_only else f"{title} \n {it.summary}"


def train(items: list[Labeled], titles_only: bool) -> Pipeline:
    """P(event) from character 2-5-grams (within word bounds), balanced classes."""
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
        LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000))
    model.fit([text_of(i, titles_only) for i in items],
              [0 if "none" in i.labels else 1 for i in items])
    return model


def score(matcher: Matcher, contract: list[str], items: list[Labeled], titles_only: bool,
          model: Pipeline | None, threshold: float) -> Evaluation:
    ev = Evaluation(contract, titles_only=titles_only)
    for it in items:
        a = matcher.analyse(without_publisher(it.title, it.publisher),
                            "" if titles_only else it.summary)
        got = hits(a.matches, set(contract))
        if got and model is not None:
            p_event = model.predict_proba([text_of(it, titles_only)])[0][1]
            if p_event < threshold:
                got = {}
        _count(ev, it, a, got)
    return ev


def row(name: str, ev: Evaluation) -> str:
    p, r, _ = ev.prf()
    return f"{name} P {p:.2f} R {r:.2f} FP {ev.none_flagged}/{ev.none_total}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threshold", type=float, default=0.5,
                    help="a match is dropped when P(event) is below this")
    args = ap.parse_args()
    cfg = load_config(ROOT / "indicators.yaml")
    matcher = Matcher(cfg)
    contract = [i.id for i in cfg.indicators if i.contract]
    sets = {p.stem: load_labeled(p) for p in FIXTURES}
    totals: dict[tuple[bool, bool], list[int]] = {}
    for titles_only in (False, True):
        print(f"\n== {'titles only' if titles_only else 'with summaries'} "
              f"(threshold {args.threshold}) ==")
        for name, items in sets.items():
            rest = [i for other, its in sets.items() if other != name for i in its]
            model = train(rest, titles_only)
            base = score(matcher, contract, items, titles_only, None, args.threshold)
            both = score(matcher, contract, items, titles_only, model, args.threshold)
            print(f"{name:<10} rules: {row('', base):<28} rules+classifier: {row('', both)}")
            for key, ev in (((titles_only, False), base), ((titles_only, True), both)):
                t = totals.setdefault(key, [0, 0, 0, 0, 0])
                t[0] += sum(ev.tp.values())
                t[1] += sum(ev.fp.values())
                t[2] += sum(ev.fn.values())
                t[3] += ev.none_flagged
                t[4] += ev.none_total
        if DEVSET.exists():
            model = train([i for its in sets.values() for i in its], titles_only)
            dev = load_labeled(DEVSET)
            print(f"{'devset':<10} rules: "
                  f"{row('', score(matcher, contract, dev, titles_only, None, 0)):<28} "
                  f"rules+classifier: "
                  f"{row('', score(matcher, contract, dev, titles_only, model, args.threshold))}")
    print("\nall fixture sets, each scored by a classifier that never saw it (micro):")
    for (titles_only, with_model), (tp, fp, fn, flagged, none) in sorted(totals.items()):
        p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
        print(f"  {'titles only' if titles_only else 'summaries  '} "
              f"{'rules+classifier' if with_model else 'rules alone     '}: "
              f"P {p:.3f} R {r:.3f} FP {flagged}/{none}")


if __name__ == "__main__":
    main()
