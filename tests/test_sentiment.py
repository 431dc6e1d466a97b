"""Sentiment and topics over recent interactions (SPEC 4.1 section 6)."""

from __future__ import annotations

from bot.core.sentiment import score_text, summarize


def test_fewer_than_two_prior_interactions_show_no_sentiment():
    assert summarize([(0.5, "thanks")], ["damaged"]) is None


def test_damaged_in_three_of_the_last_six_is_fifty_percent():
    texts = ["it arrived damaged", "fine", "damaged again", "ok", "box damaged", "great"]
    facts = summarize([(0.0, t) for t in texts], ["damaged"])
    assert (facts.topics[0].mentions, facts.topics[0].interactions, facts.topics[0].percent) == (3, 6, 50)


def test_only_the_ten_most_recent_interactions_count():
    facts = summarize([(0.0, "refund")] * 3 + [(0.0, "hello")] * 12, ["refund"])
    assert facts.interactions == 10 and facts.topics[0].mentions == 3


def test_a_phrase_inside_another_word_is_not_a_mention():
    facts = summarize([(0.0, "the chocolate was fine"), (0.0, "please translate")], ["late"])
    assert facts.topics[0].mentions == 0


def test_the_newest_interaction_weighs_more_than_older_ones():
    newest_negative = summarize([(-1.0, ""), (1.0, "")], [])
    newest_positive = summarize([(1.0, ""), (-1.0, "")], [])
    assert newest_negative.label == "negative" and newest_positive.label == "positive"


def test_vader_scores_an_angry_customer_negative():
    assert score_text("This is terrible, the parcel arrived broken and nobody helps!") < -0.05
