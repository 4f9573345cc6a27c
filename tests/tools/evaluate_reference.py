#!/usr/bin/env python
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The independent computation that onprem.llm.llm_evaluate is checked against (tests only).

Runs the served model's files directly with ``transformers`` and ``torch`` (the vLLM venv on a
node has both) and computes what evaluate.yml reports through the endpoint, from the same files,
without any of the collection's code:

- multiple choice: the summed log-probability of ``" " + choice`` after the question, the
  continuation being the tokens of question + continuation after the question's own tokens;
  accuracy = share of questions whose highest sum is the answer;
- short answer: greedy generation (``max_new_tokens``), right when the first non-empty line
  equals an accepted answer after NFKC, case folding, trimming punctuation and spaces;
- perplexity: exp(-mean log-probability) of every token after the first, in windows of ``window``
  tokens overlapping by one.

    evaluate_reference.py MODEL_DIR --choice F.jsonl ... --answer F.jsonl ... --text F.txt ... \
        [--window 512] [--max-new-tokens 32]

Prints one JSON document: {"choice": {path: {...}}, "answer": {path: {...}}, "text": {path: {...}}}.
"""

import argparse
import json
import math
import string
import sys
import unicodedata

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PUNCT = string.punctuation + "\u3002\uff0c\uff0e\uff1f\uff01\u00b7\u201c\u201d\u2018\u2019"


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def answer_index(obj):
    answer, choices = obj["answer"], obj["choices"]
    if isinstance(answer, int):
        return answer
    if len(answer.strip()) == 1 and answer.strip().upper() in LETTERS[:len(choices)]:
        return LETTERS.index(answer.strip().upper())
    return choices.index(answer)


def normalize(text):
    text = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return text.strip(PUNCT + " ")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--choice", action="append", default=[])
    parser.add_argument("--answer", action="append", default=[])
    parser.add_argument("--text", action="append", default=[])
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.eval()

    def logprobs(ids):
        """log P(ids[i] | ids[:i]) for i >= 1."""
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].double()
        lp = torch.log_softmax(logits, dim=-1)
        return [float(lp[i - 1, ids[i]]) for i in range(1, len(ids))]

    out = {"choice": {}, "answer": {}, "text": {}}
    for path in args.choice:
        items = []
        for obj in read_jsonl(path):
            context = tokenizer(obj["question"]).input_ids
            sums = []
            for choice in obj["choices"]:
                whole = tokenizer(obj["question"] + " " + choice).input_ids
                sums.append(sum(logprobs(whole)[len(context) - 1:]))
            pred = max(range(len(sums)), key=lambda i: (sums[i], -i))
            items.append({"loglikelihoods": sums, "pred": pred, "correct": pred == answer_index(obj)})
        out["choice"][path] = {"items": items, "accuracy": sum(i["correct"] for i in items) / len(items)}
    for path in args.answer:
        items = []
        for obj in read_jsonl(path):
            ids = tokenizer(obj["question"], return_tensors="pt").input_ids
            with torch.no_grad():
                gen = model.generate(ids, max_new_tokens=args.max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            reply = tokenizer.decode(gen[0][ids.shape[1]:], skip_special_tokens=True)
            line = next((x.strip() for x in reply.splitlines() if x.strip()), "")
            answers = obj["answer"] if isinstance(obj["answer"], list) else [obj["answer"]]
            items.append({"reply": reply, "correct": any(normalize(line) == normalize(a) for a in answers)})
        out["answer"][path] = {"items": items, "accuracy": sum(i["correct"] for i in items) / len(items)}
    for path in args.text:
        with open(path, encoding="utf-8") as handle:
            ids = tokenizer(handle.read()).input_ids
        values = []
        start = 0
        while start < len(ids) - 1:
            end = min(len(ids), start + args.window)
            values += logprobs(ids[start:end])
            start = end - 1
        out["text"][path] = {"tokens": len(ids), "scored_tokens": len(values),
                             "perplexity": math.exp(-sum(values) / len(values))}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
