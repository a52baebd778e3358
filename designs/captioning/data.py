"""Data: checks that find the corrupted rows, a split by scene so no test image's
content was seen in training, the vocabulary, and what the captions look like."""

from __future__ import annotations

import numpy as np

from mlsd.designs.captioning import world
from mlsd.designs.captioning.network import Vocabulary
from mlsd.results import Chart, Series, StageResult, Table, metric


def run(ctx) -> StageResult:
    cfg = ctx.config
    raw, dirt = ctx.need("raw"), ctx.need("dirt")
    clean, report = world.check(raw)
    injected = [len(dirt.corrupt_images), len(dirt.empty_captions), len(dirt.duplicate_captions),
                len(dirt.messy_captions)]
    checks = [row + [planted] for row, planted in zip(report, injected)]
    total = cfg.n_train + cfg.n_val + cfg.n_test
    train, val, test, naive_leak = world.split_by_scene(clean, (cfg.n_val / total, cfg.n_test / total), ctx.rng)
    train_keys = {s.key for s in train.scenes}
    leak = float(np.mean([s.key in train_keys for s in test.scenes]))  # 0 by construction; measured anyway

    vocab = Vocabulary.build([c for refs in train.references for c in refs])
    held_out_words = [w for split in (val, test) for refs in split.references for c in refs for w in c.split()]
    oov = float(np.mean([w not in vocab.stoi for w in held_out_words]))
    lengths = np.array([len(c.split()) for refs in train.references for c in refs])
    length_counts = np.bincount(lengths)
    too_long = int((lengths + 2 > cfg.max_len).sum())
    example = train.references[0]

    return StageResult(
        stage="data",
        headline=f"{len(clean):,} clean images of {len(raw):,}; split by scene into {len(train):,} / {len(val):,} / "
                 f"{len(test):,}; vocabulary of {len(vocab)} words.",
        metrics=[
            metric("rows", len(clean), label="images after cleaning"),
            metric("validation_issues", sum(r[2] for r in report), label="data issues found"),
            metric("leakage_share", leak, label="test scenes also in train (split by scene)",
                   baseline=naive_leak),
            metric("vocabulary_size", len(vocab)),
        ],
        tables=[
            Table("Data checks (found without being told; planted by the generator)",
                  ["check", "action", "rows found", "rows planted"], checks),
            Table("Split by scene content", ["split", "images", "distinct scenes", "references per image"],
                  [[name, len(s), len({x.key for x in s.scenes}), cfg.references]
                   for name, s in (("train", train), ("validation", val), ("test", test))],
                  caption=f"A random split would put {naive_leak:.0%} of test images' exact content (objects, "
                          "colours, sizes, relation) in train; split by scene: none."),
            Table("Vocabulary and tokenisation", ["quantity", "value"], [
                ["tokeniser", "lower case, punctuation removed, split on spaces (word level)"],
                ["vocabulary (train references + 4 specials)", len(vocab)],
                ["words", " ".join(vocab.itos[4:])],
                ["out-of-vocabulary rate, validation and test references", f"{oov:.2%}"],
                [f"captions longer than max_len {cfg.max_len} tokens (truncated)", too_long],
            ]),
            Table("One training image's references", ["#", "caption"], [[i + 1, c] for i, c in enumerate(example)]),
        ],
        charts=[Chart("Caption length (train references)", "words", "captions",
                      [Series("captions", list(range(len(length_counts))), length_counts.tolist())])],
        notes=[
            f"Length {lengths.mean():.1f} words on average ({lengths.min()}-{lengths.max()}): short, so a "
            "word-level vocabulary is enough; subword units (sentencepiece) pay off with open vocabularies.",
            "Multiple references per image are the point: captions of one image differ in wording and detail, "
            "and BLEU and CIDEr only credit what some reference says.",
            "The split is by scene: the same content with the objects moved a few pixels is the same example, and "
            "a random split would test the model on near-copies of its training set.",
        ],
        artifacts={"train": train, "val": val, "test": test, "vocab": vocab},
        exports={"captions": {
            "split": np.array(["train"] * len(train) + ["val"] * len(val) + ["test"] * len(test)),
            "scene": np.array([s.key for split in (train, val, test) for s in split.scenes]),
            **{f"ref_{i + 1}": np.array([refs[i] for split in (train, val, test) for refs in split.references])
               for i in range(cfg.references)},
        }},
    )
