"""indicators.yaml → typed, validated models, parsed once at the edge.

`models` holds the file's shape (`judging` what the criterion reads, `durations` the spans),
`rules` its rule language, `terms` the named term sets
("$name") expanded before validation, and `loader` the YAML reading that names every
problem's line.
"""

from watcher.config.durations import Duration, duration, parse_months, parse_seconds
from watcher.config.judging import CertaintyCues, Criterion, Grouping, Occasion, Stage, Track
from watcher.config.loader import config_lines, load_config, parse_config
from watcher.config.models import (
    AlertRule,
    Alerts,
    Baseline,
    Config,
    Digest,
    Feed,
    Indicator,
    Select,
    Stance,
    Tier,
)
from watcher.config.rules import (
    Example,
    Examples,
    FieldTerms,
    Near,
    Rule,
    group_terms,
)

__all__ = ["AlertRule", "Alerts", "Baseline", "CertaintyCues", "Config", "Criterion", "Digest",
           "Duration", "Example", "Examples", "Feed", "FieldTerms", "Grouping", "Indicator", "Near",
           "Occasion", "Rule", "Select", "Stage", "Stance", "Tier", "Track", "config_lines",
           "duration", "group_terms", "load_config",
           "parse_config", "parse_months", "parse_seconds"]
