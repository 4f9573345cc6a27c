"""The scorer against the Ollama double (the real Ollama cannot run here): generation scoring works
on any OpenAI-compatible endpoint, log-likelihood scoring says why it needs vLLM. The log-likelihood
and perplexity paths are checked against a real vLLM and transformers in molecule/vllm_cpu."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.evaluate import client

CHOICE = [{"kind": "choice", "question": "Q?", "choices": ["x", "y", "z"], "answer": 0, "line": 1, "id": "q1"},
          {"kind": "choice", "question": "R?", "choices": ["x", "y"], "answer": 1, "line": 3, "id": ""}]
ANSWER = [{"kind": "answer", "question": "Say it", "answers": ["nothing the double says"], "line": 1, "id": "a"}]


def endpoint(url, api):
    return {"name": "ollama/double/tiny:latest", "kind": "ollama", "url": url, "model": "tiny:latest", "api": api}


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_generation_scoring_through_any_openai_endpoint(ollama_double, api):
    scorer = client.Scorer(endpoint(ollama_double, api), timeout=30, max_tokens=8)
    results = client.score_tasks(scorer, CHOICE, "generate", parallel=2)
    assert [(r["line"], r["id"]) for r in results] == [(1, "q1"), (3, "")]
    assert all(isinstance(r["reply"], str) and r["reply"] for r in results)
    summary = client.summarize_tasks(CHOICE, results)
    assert summary["questions"] == 2 and summary["correct"] == sum(r["correct"] for r in results)
    assert summary["unparsed"] == sum(1 for r in results if r["pred"] is None)
    answers = client.score_tasks(scorer, ANSWER, "generate")
    assert answers[0]["correct"] is False and answers[0]["reply"]


def test_loglikelihood_needs_tokenize_and_says_so(ollama_double):
    scorer = client.Scorer(endpoint(ollama_double, "completions"), timeout=30)
    with pytest.raises(client.EvalError, match=r"POST /tokenize answered 404: .* score this endpoint with scoring: generate"):
        client.score_tasks(scorer, CHOICE, "loglikelihood")
    with pytest.raises(client.EvalError, match="log-likelihood scoring is for multiple-choice files"):
        client.score_tasks(scorer, ANSWER, "loglikelihood")


def test_an_unknown_model_is_named(ollama_double):
    scorer = client.Scorer(dict(endpoint(ollama_double, "chat"), model="absent:latest"), timeout=30)
    with pytest.raises(client.EvalError, match=r"ollama/double/tiny:latest: POST /v1/chat/completions answered 404"):
        scorer.generate("hello")


def test_a_prompt_longer_than_the_context_is_refused_before_sending():
    # Nothing listens on this URL: the refusal must come before any request.
    scorer = client.Scorer(endpoint("http://127.0.0.1:9", "completions"), timeout=1)
    assert scorer.max_prompt_tokens() is None
    scorer.max_model_len = 8
    assert scorer.max_prompt_tokens() == 7
    with pytest.raises(client.EvalError, match=r"8 tokens do not fit the model's context \(max_model_len 8"):
        scorer.token_logprobs(list(range(8)))
