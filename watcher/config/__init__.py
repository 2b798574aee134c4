"""indicators.yaml → typed, validated models, parsed once at the edge.

`models` holds the file's shape, `rules` its rule language, `terms` the named term sets
("$name") expanded before validation, and `loader` the YAML reading that names every
problem's line.
"""

from watcher.config.loader import config_lines, load_config, parse_config
from watcher.config.models import (
    AlertRule,
    Alerts,
    Baseline,
    CertaintyCues,
    Config,
    Criterion,
    Digest,
    Duration,
    Feed,
    Indicator,
    Select,
    Stance,
    Tier,
    duration,
    parse_months,
    parse_seconds,
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
           "Duration", "Example", "Examples", "Feed", "FieldTerms", "Indicator", "Near", "Rule",
           "Select", "Stance", "Tier", "config_lines", "duration", "group_terms", "load_config",
           "parse_config", "parse_months", "parse_seconds"]
