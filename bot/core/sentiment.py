"""Sentiment and topics over a customer's recent interactions (SPEC 4.1 section 6, seed rules)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from bot.domain import SentimentFacts, TopicShare

MIN_INTERACTIONS = 2  # seed: shown only with at least two prior recorded interactions
MAX_INTERACTIONS = 10
RECENCY_DECAY = 0.8  # each older interaction counts 80 % of the next newer one
TOPIC_TEXT_CAP = 8000  # characters of customer text kept per conversation for topic matching


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score_text(text: str) -> float:
    """VADER compound score of what the customer wrote, -1 .. +1."""
    if not text.strip():
        return 0.0
    return float(_analyzer().polarity_scores(text[:TOPIC_TEXT_CAP])["compound"])


def customer_text(lines: Sequence[str]) -> str:
    return " ".join(lines).lower()[-TOPIC_TEXT_CAP:]


@lru_cache(maxsize=256)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(phrase.lower())}\b")


def mentions(phrase: str, text: str) -> bool:
    """Whole words only: "late" is not mentioned in "chocolate" or "translate"."""
    return _phrase_pattern(phrase).search(text) is not None


def label(score: float) -> str:
    # VADER's own thresholds for its compound score.
    if score >= 0.05:
        return "positive"
    if score <= -0.05:
        return "negative"
    return "neutral"


def summarize(interactions: Sequence[tuple[float, str]], phrases: Sequence[str]) -> SentimentFacts | None:
    """`interactions` are (sentiment, lower-cased customer text), newest first."""
    recent = list(interactions)[:MAX_INTERACTIONS]
    if len(recent) < MIN_INTERACTIONS:
        return None
    weights = [RECENCY_DECAY**i for i in range(len(recent))]
    score = sum(w * s for w, (s, _) in zip(weights, recent)) / sum(weights)
    topics = tuple(
        TopicShare(phrase=p, mentions=sum(1 for _, text in recent if mentions(p, text)), interactions=len(recent))
        for p in phrases
    )
    return SentimentFacts(score=round(score, 3), label=label(score), interactions=len(recent), topics=topics)
