"""The pure matching engine: versions, CPE applicability, package URLs and free text.

No I/O here: functions take advisories and inventory data in memory and return results.
``versions`` compares versions per scheme and decides range membership; ``cpe`` reads CPE
names and evaluates NVD configurations; ``purl`` compares package URLs and ``vers:`` ranges.
"""

from tocsin.watch.match.cpe import InvalidCpeError, cpe_matches, parse_cpe
from tocsin.watch.match.cpe_config import (
    CpeSet,
    MatchResult,
    evaluate_configuration,
    evaluate_configurations,
)
from tocsin.watch.match.purl import InvalidVersError, VersRange, parse_vers, purl_affected
from tocsin.watch.match.versions import (
    InvalidVersionError,
    Version,
    compare,
    in_range,
    matches_prefix,
    parse_version,
)

__all__ = [
    "CpeSet",
    "InvalidCpeError",
    "InvalidVersError",
    "InvalidVersionError",
    "MatchResult",
    "VersRange",
    "Version",
    "compare",
    "cpe_matches",
    "evaluate_configuration",
    "evaluate_configurations",
    "in_range",
    "matches_prefix",
    "parse_cpe",
    "parse_vers",
    "parse_version",
    "purl_affected",
]
