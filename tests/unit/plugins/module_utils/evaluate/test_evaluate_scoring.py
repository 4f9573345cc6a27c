from __future__ import annotations

import math

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.evaluate import scoring


def test_continuation_starts_after_the_context_tokens():
    assert scoring.continuation_start([1, 5, 9], [1, 5, 9, 4, 2]) == 3
    # A merge across the boundary still splits at the context's length (lm-eval's rule).
    assert scoring.continuation_start([1, 5, 9], [1, 5, 8, 2]) == 3
    with pytest.raises(ValueError, match="adds no token"):
        scoring.continuation_start([1, 5, 9], [1, 5, 9])


def test_sum_logprobs_of_the_continuation():
    assert scoring.sum_logprobs([None, -1.0, -2.0, -0.5], 2) == -2.5
    with pytest.raises(ValueError, match="no log-probability"):
        scoring.sum_logprobs([None, -1.0], 0)


def test_pick_choice_acc_and_acc_norm():
    # " ab" (3 characters) sums -3.0 = -1.0 per character; " abcdefgh" (9) sums -4.5 = -0.5 per character.
    assert scoring.pick_choice([-3.0, -4.5], [" ab", " abcdefgh"]) == (0, 1)
    # A tie goes to the first choice.
    assert scoring.pick_choice([-2.0, -2.0], [" x", " y"]) == (0, 0)


@pytest.mark.parametrize("reply, answers, ok", [
    (" 서울\n다음 줄", ["서울"], True),
    ("  Paris.  ", ["paris"], True),
    ("ＰＡＲＩＳ", ["Paris"], True),        # NFKC: full-width letters
    ("\n\n 서울특별시 ", ["서울", "서울특별시"], True),
    ("서울 입니다", ["서울"], False),
    ("", ["서울"], False),
])
def test_short_answers_match_after_normalization(reply, answers, ok):
    assert scoring.answer_matches(reply, answers) is ok


@pytest.mark.parametrize("reply, index", [
    ("B", 1), (" (C) because", 2), ("The answer is D.", None), ("정답: b", 1), ("A, then B", 0), ("", None),
    ("Answer: C", 2),
])
def test_reply_choice_reads_the_first_standalone_letter(reply, index):
    # "The answer is D." names D, which a three-choice question does not have; "Answer: C" has no
    # standalone letter before C.
    assert scoring.reply_choice(reply, 3) == index


def test_choice_prompt_letters_the_choices():
    assert scoring.choice_prompt("Q?\n", ["x", "y"]) == "Q?\n\nA. x\nB. y\n\nAnswer with the letter of one choice."


def test_windows_overlap_by_one_token_and_score_every_token_after_the_first():
    assert scoring.windows(10, 4) == [(0, 4), (3, 7), (6, 10)]
    for count in range(2, 40):
        for size in (2, 3, 5, 512):
            scored = sum(end - start - 1 for start, end in scoring.windows(count, size))
            assert scored == count - 1
    assert scoring.windows(1, 4) == []
    with pytest.raises(ValueError, match="at least 2 tokens"):
        scoring.windows(10, 1)


def test_perplexity_and_accuracy():
    assert scoring.perplexity([math.log(0.5)] * 4) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="fewer than 2 tokens"):
        scoring.perplexity([])
    assert scoring.accuracy(3, 8) == 0.375 and scoring.accuracy(0, 0) is None
