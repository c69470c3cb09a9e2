"""The classifier's opinion as one reason: ``model.phishing-likely`` with points from its
probability.

The model (:mod:`tocsin.phishing.classifier`, docs/phishing-classifier.md) reads the words
and the shape of the message, never its headers. Its points grow with the probability,
from nothing below :data:`FROM_PROBABILITY` to :data:`MAX_POINTS` at :data:`FULL_AT` and
over, so that the model alone can make a message suspicious but never phishing (the verdict
needs :data:`~tocsin.phishing.verdict.PHISHING_AT` points): it was trained on public
corpora, mostly in English, and a rule that names the evidence must agree with it. The
numbers behind these constants are in docs/phishing-classifier.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from tocsin.phishing.checks import CHECKS
from tocsin.phishing.classifier import shipped_model
from tocsin.phishing.context import Context
from tocsin.phishing.links import Link
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Reason

FROM_PROBABILITY = 0.7
FULL_AT = 0.99
MIN_POINTS = 5
MAX_POINTS = 45


def points_for(probability: float) -> int:
    """0 below :data:`FROM_PROBABILITY`, then from :data:`MIN_POINTS` rising linearly to
    :data:`MAX_POINTS` at :data:`FULL_AT`."""
    if probability < FROM_PROBABILITY:
        return 0
    share = min(1.0, (probability - FROM_PROBABILITY) / (FULL_AT - FROM_PROBABILITY))
    return round(MIN_POINTS + share * (MAX_POINTS - MIN_POINTS))


class ModelCheck:
    name = "model"

    def run(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterator[Reason]:
        probability = shipped_model().probability(message, links)
        points = points_for(probability)
        if points:
            yield Reason(
                "model.phishing-likely", points, f"classifier probability {probability:.2f}"
            )


CHECKS.register(ModelCheck())
