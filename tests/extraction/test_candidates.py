"""Sentences, tokens, mentions, pairs and decodings of the extraction path, each alone."""

import numpy as np
import pytest

from anrc.data.labels import LabelSet
from anrc.data.tokens import tokenize
from anrc.extraction.decode import DECODINGS
from anrc.extraction.mentions import MENTION_SOURCES, make_source
from anrc.extraction.pairs import candidate_pairs
from anrc.extraction.text import sentences, tokens


def _texts(text):
    return [text[s:e] for s, e in sentences(text)]


def test_sentences_end_at_terminal_punctuation_before_a_capital():
    text = "The singer left. A crowd formed! Was it late? yes it was.\n\nNew part here"
    assert _texts(text) == ["The singer left.", "A crowd formed!", "Was it late? yes it was.",
                            "New part here"]  # fmt: skip


def test_abbreviations_initials_and_quotes_do_not_cut_or_do():
    text = 'Dr. Smith met J. Doe in the U.S. today. "Fine," he said. She left.'
    assert _texts(text) == ['Dr. Smith met J. Doe in the U.S. today.', '"Fine," he said.',
                            "She left."]  # fmt: skip


@pytest.mark.parametrize("text", ["", "   \n\n  ", "no end at all"])
def test_blank_or_unended_text(text):
    assert _texts(text) == ([text] if text.strip() else [])


def test_tokens_follow_the_training_rule_with_offsets_into_the_text():
    text = "Intro.  The U.S. self-esteem's 3.5 (ok)."
    s, e = sentences(text)[1]
    toks = tokens(text, s, e)
    assert [t for t, _, _ in toks] == tokenize(text[s:e])
    assert all(text[a:b] == t for t, a, b in toks)


def test_words_source_takes_content_words_only():
    words = ["The", "singer", "'s", "song", "caused", "a", "commotion", "in", "1999", "."]
    spans = make_source("words").spans(words)
    assert [words[a] for a, _ in spans] == ["singer", "song", "caused", "commotion"]
    assert "words" in MENTION_SOURCES.choices()
    with pytest.raises(ValueError, match="did you mean words"):
        make_source("word")


def test_pairs_in_both_orders_within_the_window_never_overlapping():
    mentions = [(0, 1), (2, 3), (2, 4), (10, 11)]
    pairs = candidate_pairs(mentions, window=3)
    assert ((0, 1), (2, 3)) in pairs and ((2, 3), (0, 1)) in pairs
    assert ((2, 3), (2, 4)) not in pairs  # overlapping
    assert not any((10, 11) in p for p in pairs)  # 6 tokens from (2, 4): past the window
    assert len(candidate_pairs(mentions, window=0)) == 2 * 5


LABELS = LabelSet(("Other", "A(e1,e2)", "A(e2,e1)"))
PAIRS = [((0, 1), (2, 3)), ((2, 3), (0, 1)), ((0, 1), (4, 5)), ((4, 5), (0, 1))]
PROBS = np.array([[0.2, 0.7, 0.1], [0.3, 0.1, 0.6], [0.9, 0.05, 0.05], [0.4, 0.35, 0.25]])


def test_threshold_decoding_keeps_every_ordered_pair_above_it():
    got = DECODINGS.get("threshold")(PROBS, PAIRS, LABELS, 0.5)
    assert [(i, k) for i, k, _ in got] == [(0, 1), (1, 2)]


def test_pair_decoding_keeps_the_better_order_of_each_pair():
    got = DECODINGS.get("pair")(PROBS, PAIRS, LABELS, 0.3)
    assert [(i, k) for i, k, _ in got] == [(0, 1), (3, 1)]


def test_sentence_decoding_names_one_pair_negative_when_below_the_threshold():
    decide = DECODINGS.get("sentence")
    assert [(i, k) for i, k, _ in decide(PROBS, PAIRS, LABELS, 0.5)] == [(0, 1)]
    assert [(i, k) for i, k, _ in decide(PROBS, PAIRS, LABELS, 0.95)] == [(0, 0)]
    assert decide(PROBS[:0], [], LABELS, 0.5) == []


def test_sentence_decoding_ranks_pairs_by_their_mentions_scores_too():
    decide = DECODINGS.get("sentence")
    prior = np.array([0.1, 0.9, 1.0, 1.0])  # pair 1's mentions likelier than pair 0's
    assert [(i, k) for i, k, _ in decide(PROBS, PAIRS, LABELS, 0.5, prior)] == [(1, 2)]
    assert decide(PROBS, PAIRS, LABELS, 0.5, prior)[0][2] == 0.6  # the score is P(label)


def test_a_label_set_without_a_negative_class_decodes_on_all_labels():
    labels = LabelSet(("x", "y", "z"), negative="Other")
    got = DECODINGS.get("sentence")(PROBS, PAIRS, labels, 0.95)
    assert [(i, k) for i, k, _ in got] == [(2, 0)]
