# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How answers are scored and perplexity is computed (pure functions).

The definitions are lm-evaluation-harness's, so figures compare with published ones:

- multiple choice by log-likelihood: the context is the question as written, each continuation is
  ``" " + choice``; the continuation's tokens are those of ``context + continuation`` after the
  context's own tokens. ``acc`` picks the highest summed log-probability, ``acc_norm`` the highest
  per character of the continuation (first best wins a tie);
- short answer: greedy generation up to the first newline, right when it equals an accepted answer
  after Unicode NFKC, case folding, trimming punctuation and collapsing spaces;
- perplexity: exp of minus the mean log-probability of every token after the first, the text split
  into windows of at most ``window`` tokens that overlap by one token (the last token of a window
  is the first, unscored, context token of the next).
"""

from __future__ import annotations

import math
import re
import string
import unicodedata

from ansible_collections.onprem.llm.plugins.module_utils.evaluate.taskfile import LETTERS

_PUNCT = string.punctuation + "\u3002\uff0c\uff0e\uff1f\uff01\u00b7\u201c\u201d\u2018\u2019"


def continuation_start(context_ids, whole_ids):
    """Index in ``whole_ids`` where the continuation's tokens start (lm-eval's split)."""
    start = len(context_ids)
    if len(whole_ids) <= start:
        raise ValueError("the continuation adds no token after the context (%d tokens, %d with it)"
                         % (start, len(whole_ids)))
    return start


def sum_logprobs(token_logprobs, start):
    values = token_logprobs[start:]
    if not values or any(v is None for v in values):
        raise ValueError("the endpoint returned no log-probability for some continuation token")
    return float(sum(values))


def argmax(values):
    best = 0
    for i, value in enumerate(values):
        if value > values[best]:
            best = i
    return best


def pick_choice(loglikelihoods, continuations):
    """(acc pick, acc_norm pick) from each choice's summed log-probability and continuation text."""
    norm = [ll / max(1, len(text)) for ll, text in zip(loglikelihoods, continuations)]
    return argmax(loglikelihoods), argmax(norm)


def normalize_answer(text):
    text = unicodedata.normalize("NFKC", text).casefold()
    text = " ".join(text.split())
    return text.strip(_PUNCT + " ")


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def answer_matches(reply, answers):
    got = normalize_answer(first_line(reply))
    return any(got == normalize_answer(a) for a in answers)


def choice_prompt(question, choices):
    """The prompt of a multiple-choice question for an endpoint scored by generation."""
    lines = ["%s. %s" % (LETTERS[i], c) for i, c in enumerate(choices)]
    return "%s\n\n%s\n\nAnswer with the letter of one choice." % (question.rstrip(), "\n".join(lines))


def reply_choice(reply, count):
    """The choice a generated reply names: its first standalone letter A.., else a choice's text; None."""
    allowed = LETTERS[:count]
    text = unicodedata.normalize("NFKC", reply)
    for match in re.finditer(r"(?<![A-Za-z])([A-Za-z])(?![A-Za-z])", text):
        letter = match.group(1).upper()
        if letter in allowed:
            return allowed.index(letter)
    return None


def windows(count, window):
    """[(start, end)] covering ``count`` tokens; each window scores tokens start+1 .. end-1."""
    if window < 2:
        raise ValueError("a perplexity window must hold at least 2 tokens, got %d" % window)
    out = []
    start = 0
    while start < count - 1:
        end = min(count, start + window)
        out.append((start, end))
        start = end - 1
    return out


def perplexity(logprobs):
    values = [float(v) for v in logprobs]
    if not values:
        raise ValueError("a text of fewer than 2 tokens has no perplexity")
    return math.exp(-sum(values) / len(values))


def accuracy(correct, total):
    return round(float(correct) / total, 6) if total else None
