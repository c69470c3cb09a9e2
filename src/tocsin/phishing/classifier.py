"""The phishing classifier at analysis time: a logistic regression read from a JSON file.

The model (``tocsin/data/phishing/model.json``, trained by ``python -m
tocsin.phishing.train``, docs/phishing-classifier.md) is plain data: the feature settings it
was trained with, an intercept, one weight per shape feature (by name) and the non-zero
weights of the hashed word columns as ``[column, weight]`` pairs. Loading it runs no code
(no pickle), and inference needs neither scikit-learn nor numpy: the features are hashed
with the standard library's crc32 (:mod:`tocsin.phishing.features`), so the probability is
a dot product and a sigmoid.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tocsin.data import data_path
from tocsin.errors import InputError, Location
from tocsin.phishing.features import FEATURES_VERSION, N_HASHED, SHAPE, Vector, vectorise
from tocsin.phishing.links import Link
from tocsin.phishing.message import ParsedMessage

MODEL_FORMAT = "tocsin-phishing-model"


class ModelError(InputError):
    """A model file Tocsin cannot use (not JSON, wrong format or feature settings)."""


class ModelFile(BaseModel):
    """The JSON document of a trained model (validated when read)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    format: str
    features_version: int
    n_hashed: int
    hashing: str
    shape: list[str]
    intercept: float
    shape_weights: dict[str, float]
    weights: list[tuple[int, float]]
    trained: dict[str, object] = Field(default_factory=dict)


class PhishingModel:
    """A loaded model: :meth:`probability` of a message being phishing."""

    def __init__(self, document: ModelFile, origin: str = "model.json") -> None:
        if document.format != MODEL_FORMAT:
            raise ModelError(f"not a Tocsin phishing model: {document.format!r}", Location(origin))
        if (
            document.features_version != FEATURES_VERSION
            or document.n_hashed != N_HASHED
            or document.hashing != "crc32"
            or tuple(document.shape) != SHAPE
        ):
            raise ModelError(
                "model trained with other feature settings; retrain it "
                "(python -m tocsin.phishing.train)",
                Location(origin),
            )
        self.document = document
        self.intercept = document.intercept
        weights = {i: document.shape_weights.get(name, 0.0) for i, name in enumerate(SHAPE)}
        for column, weight in document.weights:
            weights[len(SHAPE) + column] = weight
        self.weights = weights

    def score(self, vector: Vector) -> float:
        """The decision value (log-odds) of a feature vector."""
        weights = self.weights
        return self.intercept + sum(value * weights.get(i, 0.0) for i, value in vector.items())

    def probability_of(self, vector: Vector) -> float:
        value = self.score(vector)
        if value >= 0:
            return 1.0 / (1.0 + math.exp(-value))
        odds = math.exp(value)
        return odds / (1.0 + odds)

    def probability(self, message: ParsedMessage, links: tuple[Link, ...] | None = None) -> float:
        """The probability, from 0 to 1, that ``message`` is phishing."""
        return self.probability_of(vectorise(message, links))


def parse_model(text: str, origin: str = "model.json") -> PhishingModel:
    """The model of a JSON text; :class:`ModelError` naming ``origin`` when it is unusable."""
    try:
        document = ModelFile.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise ModelError(f"invalid phishing model: {exc}"[:500], Location(origin)) from exc
    return PhishingModel(document, origin)


def load_model(path: Path | Traversable | None = None) -> PhishingModel:
    """The model at ``path``, by default the one shipped with Tocsin."""
    source = path if path is not None else data_path("phishing", "model.json")
    try:
        text = source.read_text("utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read the phishing model: {exc}", Location(str(source))) from exc
    return parse_model(text, str(source))


@lru_cache(maxsize=1)
def shipped_model() -> PhishingModel:
    """The model shipped with Tocsin, read once."""
    return load_model()


def configured_model(path: Path | None) -> PhishingModel:
    """The model of the ``[phishing] model`` setting (read again only when the file
    changes), or the shipped one."""
    if path is None:
        return shipped_model()
    try:
        stamp = path.stat()
    except OSError as exc:
        raise ModelError(f"cannot read the phishing model: {exc}", Location(str(path))) from exc
    return _model_at(path, stamp.st_mtime_ns, stamp.st_size)


@lru_cache(maxsize=4)
def _model_at(path: Path, mtime_ns: int, size: int) -> PhishingModel:
    return load_model(path)


__all__ = [
    "MODEL_FORMAT",
    "ModelError",
    "ModelFile",
    "PhishingModel",
    "configured_model",
    "load_model",
    "parse_model",
    "shipped_model",
]
