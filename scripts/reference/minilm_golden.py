#!/usr/bin/env python3
"""Writes Tests/UnitTests/Fixtures/minilm-golden.json: token ids and sentence vectors of fixed strings, computed
independently of Switchboard's Swift encoder, to hold it to.

Token ids come from Hugging Face `tokenizers` (the model's own tokenizer.json); vectors from a plain numpy forward
pass over the same safetensors file (BERT: 6 post-LayerNorm layers, exact-erf GELU, mean pooling, L2 norm).
Run once, by hand, when the strings change:

    python3 -m venv /tmp/refenv && /tmp/refenv/bin/pip install numpy tokenizers safetensors
    /tmp/refenv/bin/python scripts/reference/minilm_golden.py MODEL_DIR > Tests/UnitTests/Fixtures/minilm-golden.json

Not used at run time or by CI: the fixture it writes is committed.
"""
import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model

TEXTS = [
    "How do I reset my password if I no longer have access to the email address on my account?",
    "hola",
    "Necesito 5 kg de tomate roma y 2 cajas de cebolla blanca, por favor.",
    "¿Dónde está mi pedido? Lo hice el martes y todavía no llegó.",
    "Can I get a dozen eggs, 2 of the big oil... actually make it 3!!",
    "Crème brûlée, jalapeño & café — naïve résumé façade.",
    "東京の配送は何日かかりますか？",
    "refund 😡😡 now!!! order #A-10293 was DAMAGED",
    "Zero\u200bwidth and full-width ＡＢＣ text, Ελληνικά και Русский.",
    "supercalifragilisticexpialidocious antidisestablishmentarianism " * 3,
    " ".join(["The delivery window for wholesale orders is Monday to Saturday before noon."] * 30),
]


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def encode(t, ids):
    n = len(ids)
    x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][:n] + t["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"]).astype(np.float64)
    heads, dh = 12, 32
    for i in range(6):
        p = f"encoder.layer.{i}."
        lin = lambda v, name: v @ t[p + name + ".weight"].T.astype(np.float64) + t[p + name + ".bias"]
        q = lin(x, "attention.self.query").reshape(n, heads, dh).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(n, heads, dh).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(n, heads, dh).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, heads * dh)
        x = layer_norm(lin(ctx, "attention.output.dense") + x, t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"])
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(lin(h, "output.dense") + x, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"])
    v = x.mean(0)
    return v / np.linalg.norm(v)


def main():
    model_dir = sys.argv[1]
    tensors = load_file(f"{model_dir}/model.safetensors")
    tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tokenizer.no_padding()
    tokenizer.no_truncation()
    cases = []
    for text in TEXTS:
        ids = tokenizer.encode(text).ids
        if len(ids) > MAX_TOKENS:
            ids = ids[: MAX_TOKENS - 1] + [ids[-1]]  # keep [SEP] last, as truncation does
        vector = encode(tensors, ids)
        cases.append({"text": text, "ids": ids, "embedding": [round(float(f), 7) for f in vector]})
    json.dump({"model": "sentence-transformers/all-MiniLM-L6-v2", "maxTokens": MAX_TOKENS, "cases": cases}, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
