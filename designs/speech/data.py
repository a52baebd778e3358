"""Data: log-mel features with running (causal) normalisation, the augmentations the
model stage measures, utterance lengths, checks for clipped, silent and mismatched
recordings (planted by the generator, found without being told), and the split:
held-out speakers and held-out word sequences, with the leakage an i.i.d. draw has."""

from __future__ import annotations

import numpy as np

from mlsd.designs.speech import world
from mlsd.designs.speech.asr import HOP, N_MELS, RunningNorm, features, log_mel, mel_transform
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
    splits, speakers = ctx.need("splits"), ctx.need("speakers")
    planted = plant_dirt(splits["train"], cfg.dirty_share, ctx.rng)
    train, report = check(splits["train"])
    checks = [row + [len(planted[key])] for row, key in zip(report, ("clipped", "silent", "mismatched"))]
    seen = frozenset(u.text for u in train)
    noisy_val = world.generate(cfg.n_val, speakers["val"], ctx.rng, cfg.noisy_snr_db, exclude=seen)
    noisy_test = world.generate(cfg.n_test, speakers["test"], ctx.rng, cfg.noisy_snr_db, exclude=seen)
    test_texts = [u.text for u in splits["test"] + noisy_test]
    leaked = float(np.mean([t in seen for t in test_texts]))
    iid_leaked = float(np.mean([world.sentence(ctx.rng) in seen for _ in test_texts]))  # had test been drawn i.i.d.
    shared_voices = len(set(speakers["train"]) & set(speakers["test"] + speakers["val"]))
    mel = mel_transform()
    raw_train = [log_mel(u.audio, mel) for u in train]
    norm = RunningNorm.fit(raw_train)
    feats = {"train": [norm(m) for m in raw_train]}
    for name, utterances in (("val", splits["val"]), ("test", splits["test"]), ("noisy_val", noisy_val),
                             ("noisy_test", noisy_test)):
        feats[name] = features([u.audio for u in utterances], norm, mel)
    seconds = np.array([len(u.audio) / world.SAMPLE_RATE for u in train])
    chars = np.array([len(u.text) for u in train])
    frames = np.array([len(f) for f in feats["train"]])
    margin = int(np.min(frames // 4 - chars))  # CTC needs an output frame per character at least
    return StageResult(
        stage="data",
        headline=f"{len(train):,} clean training utterances of {len(splits['train']):,}; {N_MELS} log-mel bands every "
                 f"{HOP / world.SAMPLE_RATE * 1000:.0f} ms, normalised causally; test speakers and sentences "
                 f"held out ({leaked:.0%} of test sentences in training, {iid_leaked:.0%} for an i.i.d. draw).",
        metrics=[
            metric("rows", len(train), label="training utterances after checks"),
            metric("validation_issues", sum(r[2] for r in report), label="utterances failing a check"),
            metric("leakage_share", leaked, baseline=iid_leaked,
                   label="test sentences (clean and noisy) also in training (baseline: an i.i.d. draw)"),
        ],
        tables=[
            Table("Data checks (found without being told; planted by the generator)",
                  ["check", "action", "found", "planted"], checks),
            Table("Split (held out by speaker and by sentence)", ["quantity", "value"], [
                ["training speakers", len(speakers["train"])],
                ["validation / test speakers", f"{len(speakers['val'])} / {len(speakers['test'])}"],
                ["voices shared between training and validation or test", shared_voices],
                ["test sentences also in training", f"{leaked:.1%} of {len(test_texts)}"],
                ["the same, had test been drawn i.i.d.", f"{iid_leaked:.1%}"],
            ], caption="A test set of known voices and sentences overstates accuracy for new users; these are "
                       "redrawn until unseen."),
            Table("Features", ["setting", "value"], [
                ["sample rate", f"{world.SAMPLE_RATE} Hz"],
                ["window / hop", "25 ms (200 samples, FFT 256, no centre padding) / 10 ms"],
                ["mel bands", N_MELS],
                ["normalisation", f"running: each band by the mean and variance of the frames so far, started "
                                  f"from the training set's (weighing {norm.prior_frames / 100:g} s); removes gain "
                                  "and channel, and a stream computes the same"],
            ]),
            Table("Augmentations (their effect is measured in the model stage)", ["augmentation", "what it does"], [
                ["SpecAugment", "masks a band of up to 6 mels and up to 10 frames in each training batch"],
                ["noise", "noisy copies of training utterances at the noise level of the new condition, added "
                          "when fine-tuning (monitoring)"],
            ]),
            Table("Utterances", ["quantity", "mean", "min", "max"], [
                ["seconds", round(seconds.mean(), 2), round(seconds.min(), 2), round(seconds.max(), 2)],
                ["characters", round(chars.mean(), 1), int(chars.min()), int(chars.max())],
                ["feature frames", round(frames.mean(), 1), int(frames.min()), int(frames.max())],
            ], caption="CTC needs at least as many output frames (here frames / 4) as characters: every "
                       f"utterance has {margin} or more to spare."),
        ],
        notes=[
            "Log-mel features compress the spectrum the way hearing does; normalisation makes a quiet recording "
            "and a loud one look alike. Running statistics do it causally, so a streaming recogniser sees the "
            "features it was trained on.",
            "A mismatched transcript is the most damaging dirt: CTC cannot align text the audio does not contain, "
            "and the gradient teaches noise.",
        ],
        artifacts={"train": train, "noisy_val": noisy_val, "noisy_test": noisy_test, "feats": feats, "norm": norm},
    )
