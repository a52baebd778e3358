"""Data: log-mel features with per-utterance normalisation, the augmentations the model
stage measures, utterance lengths, and checks for clipped, silent and mismatched
recordings (planted by the generator, found without being told)."""

from __future__ import annotations

import numpy as np

from mlsd.designs.speech import world
from mlsd.designs.speech.asr import HOP, N_MELS, features
from mlsd.results import StageResult, Table, metric

SECONDS_PER_CHARACTER = (0.04, 0.25)  # plausible speaking rates: outside means audio and text do not match


def plant_dirt(utterances: list[world.Utterance], share: float, rng) -> dict[str, np.ndarray]:
    n = int(round(share * len(utterances)))
    rows = rng.permutation(len(utterances))
    planted = {"clipped": rows[:n], "silent": rows[n:2 * n], "mismatched": rows[2 * n:3 * n]}
    for i in planted["clipped"]:
        u = utterances[i]
        u.audio = np.clip(u.audio * 20, -0.3, 0.3).astype(np.float32)
    for i in planted["silent"]:
        utterances[i].audio = (utterances[i].audio * 0.0005).astype(np.float32)
    for i in planted["mismatched"]:  # a long transcript attached to another recording, cut short
        u = utterances[i]
        u.text = " ".join([u.text] * 3)
        u.audio = u.audio[: len(u.audio) // 3]
    return planted


def check(utterances: list[world.Utterance]) -> tuple[list[world.Utterance], list[list]]:
    peak = np.array([np.abs(u.audio).max() for u in utterances])
    clipped = np.array([np.mean(np.abs(u.audio) >= 0.999 * p) > 0.01 for u, p in zip(utterances, peak)])
    silent = np.array([np.sqrt(np.mean(u.audio**2)) < 1e-3 for u in utterances])
    rate = np.array([len(u.audio) / world.SAMPLE_RATE / max(1, len(u.text)) for u in utterances])
    mismatched = (rate < SECONDS_PER_CHARACTER[0]) | (rate > SECONDS_PER_CHARACTER[1])
    keep = ~(clipped | silent | mismatched)
    report = [["clipping (over 1% of samples at the peak)", "drop", int(clipped.sum())],
              ["silence (RMS below -60 dBFS)", "drop", int(silent.sum())],
              [f"audio/transcript length mismatch (outside {SECONDS_PER_CHARACTER[0]}-{SECONDS_PER_CHARACTER[1]} "
               "s per character)", "drop", int(mismatched.sum())]]
    return [u for u, k in zip(utterances, keep) if k], report


def run(ctx) -> StageResult:
    cfg = ctx.config
    splits = ctx.need("splits")
    planted = plant_dirt(splits["train"], cfg.dirty_share, ctx.rng)
    train, report = check(splits["train"])
    checks = [row + [len(planted[key])] for row, key in zip(report, ("clipped", "silent", "mismatched"))]
    noisy_val = world.generate(cfg.n_val, ctx.need("speakers"), ctx.rng, cfg.noisy_snr_db)
    noisy_test = world.generate(cfg.n_test, ctx.need("speakers"), ctx.rng, cfg.noisy_snr_db)
    feats = {"train": features([u.audio for u in train]), "val": features([u.audio for u in splits["val"]]),
             "test": features([u.audio for u in splits["test"]]),
             "noisy_val": features([u.audio for u in noisy_val]),
             "noisy_test": features([u.audio for u in noisy_test])}
    seconds = np.array([len(u.audio) / world.SAMPLE_RATE for u in train])
    chars = np.array([len(u.text) for u in train])
    frames = np.array([len(f) for f in feats["train"]])
    return StageResult(
        stage="data",
        headline=f"{len(train):,} clean training utterances of {len(splits['train']):,}; {N_MELS} log-mel bands every "
                 f"{HOP / world.SAMPLE_RATE * 1000:.0f} ms, normalised per utterance.",
        metrics=[
            metric("rows", len(train), label="training utterances after checks"),
            metric("validation_issues", sum(r[2] for r in report), label="utterances failing a check"),
        ],
        tables=[
            Table("Data checks (found without being told; planted by the generator)",
                  ["check", "action", "found", "planted"], checks),
            Table("Features", ["setting", "value"], [
                ["sample rate", f"{world.SAMPLE_RATE} Hz"],
                ["window / hop", "25 ms (200 samples, FFT 256) / 10 ms"],
                ["mel bands", N_MELS],
                ["normalisation", "per utterance: each band to mean 0, variance 1 (removes gain and channel)"],
            ]),
            Table("Augmentations (their effect is measured in the model stage)", ["augmentation", "what it does"], [
                ["SpecAugment", "masks a band of up to 6 mels and up to 10 frames in each training batch"],
                ["noise", "utterances at the noise level of the new condition, added to the training set when "
                          "fine-tuning (monitoring)"],
            ]),
            Table("Utterances", ["quantity", "mean", "min", "max"], [
                ["seconds", round(seconds.mean(), 2), round(seconds.min(), 2), round(seconds.max(), 2)],
                ["characters", round(chars.mean(), 1), int(chars.min()), int(chars.max())],
                ["feature frames", round(frames.mean(), 1), int(frames.min()), int(frames.max())],
            ], caption="CTC needs at least as many output frames (here frames / 4) as characters: "
                       f"{frames.min() // 4} >= {chars.max()} holds with room."),
        ],
        notes=[
            "Log-mel features compress the spectrum the way hearing does; per-utterance normalisation makes a "
            "quiet phone and a loud one look alike.",
            "A mismatched transcript is the most damaging dirt: CTC cannot align text the audio does not contain, "
            "and the gradient teaches noise.",
        ],
        artifacts={"train": train, "noisy_val": noisy_val, "noisy_test": noisy_test, "feats": feats},
    )
