"""The classifier's opinion as one reason: ``model.phishing-likely`` with points from its
probability.

The model (:mod:`tocsin.phishing.classifier`, docs/phishing-classifier.md) reads the words
and the shape of the message, never its headers. Its points grow with the probability,
from nothing below :data:`FROM_PROBABILITY` to :data:`MAX_POINTS` just under
:data:`CONFIDENT_AT`, enough with other signs for a phishing verdict; at
:data:`CONFIDENT_AT` and over it gives :data:`CONFIDENT_POINTS`, a phishing verdict alone.
That step was chosen on the test splits (docs/phishing-classifier.md, "Points"): at
p ≥ 0.95 the model flags 92.5 % of current phishing and 0.3 % of easy-ham, 0 % of
hard-ham; below it, it needs the rules to agree.
"""

from __future__ import annotations

from collections.abc import Iterator

from tocsin.phishing.checks import CHECKS
from tocsin.phishing.classifier import configured_model
from tocsin.phishing.context import Context
from tocsin.phishing.links import Link
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Reason

FROM_PROBABILITY = 0.7
CONFIDENT_AT = 0.95
MIN_POINTS = 5
MAX_POINTS = 45
CONFIDENT_POINTS = 60


def points_for(probability: float) -> int:
    """0 below :data:`FROM_PROBABILITY`, then from :data:`MIN_POINTS` rising linearly to
    :data:`MAX_POINTS` just under :data:`CONFIDENT_AT`; :data:`CONFIDENT_POINTS` from there."""
    if probability < FROM_PROBABILITY:
        return 0
    if probability >= CONFIDENT_AT:
        return CONFIDENT_POINTS
    share = (probability - FROM_PROBABILITY) / (CONFIDENT_AT - FROM_PROBABILITY)
    return round(MIN_POINTS + share * (MAX_POINTS - MIN_POINTS))


class ModelCheck:
    name = "model"

    def run(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterator[Reason]:
        probability = configured_model(context.model).probability(message, links)
        points = points_for(probability)
        if points:
            yield Reason(
                "model.phishing-likely", points, f"classifier probability {probability:.2f}"
            )


CHECKS.register(ModelCheck())
