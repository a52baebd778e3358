"""Problem: what is transcribed and how it is judged (WER, RTF), the 300 ms streaming
budget, on-device versus cloud, capacity; baselines: the empty transcript and a frame
classifier with no sequence model. Generates the corpus the later stages use:
validation and test speakers are never heard in training, and their word sequences
never appear in it."""

from __future__ import annotations

import numpy as np

from mlsd.designs.speech import world
from mlsd.designs.speech.asr import HOP, N_FFT
from mlsd.results import StageResult, Table, metric

BUDGET_ALLOCATION_MS = (
    ("audio chunk and look-ahead buffered", 260.0),
    ("encoder, decoding and partial result", 20.0),
    ("headroom (an on-device recogniser has no network hop)", 20.0),
)
CONTEXT = 2  # frames either side for the frame classifier


def frame_labels(utterance: world.Utterance, n_frames: int) -> np.ndarray:
    """The phone at each frame's centre, " " for silence (from the generator's spans)."""
    labels = np.full(n_frames, " ", dtype="<U1")
    centres = (np.arange(n_frames) * HOP + N_FFT / 2) / world.SAMPLE_RATE
    for phone, start, end in utterance.phones:
        labels[(centres >= start) & (centres < end)] = phone
    return labels


def stacked(frames: np.ndarray) -> np.ndarray:
    padded = np.pad(frames, ((CONTEXT, CONTEXT), (0, 0)), mode="edge")
    return np.hstack([padded[i:i + len(frames)] for i in range(2 * CONTEXT + 1)])


def smooth(labels: np.ndarray, width: int = 5) -> np.ndarray:
    """Majority vote over a sliding window: the least a frame-by-frame system needs."""
    out = labels.copy()
    for i in range(len(labels)):
        window = labels[max(0, i - width // 2): i + width // 2 + 1].tolist()
        out[i] = max(sorted(set(window)), key=window.count)  # sorted: ties break the same way in every process
    return out


def collapse(labels: np.ndarray) -> str:
    """Frame labels to text: merge runs, silence runs become word breaks."""
    out, previous = [], None
    for label in smooth(labels).tolist():
        if label != previous:
            out.append(label)
        previous = label
    return " ".join("".join(out).split())


def run(ctx) -> StageResult:
    import jiwer
    from sklearn.linear_model import SGDClassifier

    from mlsd.designs.speech.asr import features

    cfg = ctx.config
    voices = world.make_speakers(cfg.n_speakers + 2 * cfg.heldout_speakers, ctx.rng)
    held = cfg.heldout_speakers
    speakers = {"train": voices[:cfg.n_speakers], "val": voices[cfg.n_speakers:cfg.n_speakers + held],
                "test": voices[cfg.n_speakers + held:]}  # validation and test voices are never heard in training
    splits = {"train": world.generate(cfg.n_train, speakers["train"], ctx.rng, cfg.snr_db)}
    seen = frozenset(u.text for u in splits["train"])  # held-out sets keep their word sequences out of training
    for name, n in (("val", cfg.n_val), ("test", cfg.n_test)):
        splits[name] = world.generate(n, speakers[name], ctx.rng, cfg.snr_db, exclude=seen)
    test_refs = [u.text for u in splits["test"]]
    frame_train = splits["train"][:cfg.frame_train_utterances]
    train_feats = features([u.audio for u in frame_train])
    X = np.vstack([stacked(f.numpy()) for f in train_feats])
    y = np.concatenate([frame_labels(u, len(f)) for u, f in zip(frame_train, train_feats)])
    frame_model = SGDClassifier(loss="log_loss", max_iter=10, tol=None, random_state=ctx.seed).fit(X, y)
    test_feats = features([u.audio for u in splits["test"]])
    frame_hyps = [collapse(frame_model.predict(stacked(f.numpy()))) for f in test_feats]
    frame_wer, frame_cer = jiwer.wer(test_refs, frame_hyps), jiwer.cer(test_refs, frame_hyps)
    empty_wer = jiwer.wer(test_refs, [""] * len(test_refs))
    seconds = np.array([len(u.audio) / world.SAMPLE_RATE for u in splits["train"]])
    cores_at_rtf = cfg.production_audio_hours_per_day * 3600 / 86_400  # cores needed per unit of RTF
    return StageResult(
        stage="problem",
        headline=f"Transcribe speech with word error rate far below the baselines (frame classifier WER "
                 f"{frame_wer:.0%}), streaming partial results within about 300 ms.",
        metrics=[
            metric("rows", sum(len(s) for s in splits.values()), label="utterances synthesized"),
            metric("baseline_wer", frame_wer, baseline=empty_wer,
                   label="WER of a frame classifier (baseline: empty transcript)"),
            metric("baseline_cer", frame_cer, label="CER of the frame classifier"),
        ],
        tables=[
            Table("What is generated", ["quantity", "value"], [
                ["phones", f"{len(world.PHONES)}: vowels and liquids (formant-shaped harmonics), nasals, "
                           "fricatives (band noise), stops (bursts)"],
                ["lexicon", f"{len(world.LEXICON)} words in families of {world.FAMILY_SIZE} sharing a root: two "
                            "differ in one vowel, short words run together into long ones (ki to / kito)"],
                ["grammar", f"connected word sequences of {world.WORDS_PER_UTTERANCE[0]}-"
                            f"{world.WORDS_PER_UTTERANCE[1]} words; a word bigram grammar allows "
                            f"{world.SUCCESSORS} next words after each; pauses between words "
                            f"{world.PAUSE_S[0] * 1000:.0f}-{world.PAUSE_S[1] * 1000:.0f} ms"],
                ["speakers", f"{cfg.n_speakers} in training, {held} more in validation and {held} in test (never "
                             "heard in training), differing in pitch (90-240 Hz), timbre and speaking rate"],
                ["utterances", f"{cfg.n_train} train / {cfg.n_val} validation / {cfg.n_test} test, "
                               f"{seconds.mean():.2f} s on average, {cfg.snr_db:.0f} dB SNR"],
            ]),
            Table("Baselines on the test set", ["system", "WER", "CER"], [
                ["empty transcript", round(empty_wer, 3), 1.0],
                ["frame classifier (logistic regression on 5 stacked frames, majority-smoothed, no sequence model)",
                 round(frame_wer, 3), round(frame_cer, 3)],
            ], caption="WER and CER from jiwer. The frame classifier is trained on the generator's phone "
                       "alignment, which real data rarely has; it still fails, because one wrong frame splits or "
                       "merges words."),
            Table("Streaming latency budget (plan; serving measures it)", ["component", "budget ms"],
                  [[name, ms] for name, ms in BUDGET_ALLOCATION_MS]
                  + [["total", sum(ms for _, ms in BUDGET_ALLOCATION_MS)]]),
            Table("Capacity estimate", ["quantity", "value"], [
                ["audio", f"{cfg.production_audio_hours_per_day:,.0f} hours a day"],
                ["cores at RTF 1", f"{cores_at_rtf:,.0f} (one core per concurrent stream, on average)"],
                ["cores at the measured RTF", "serving stage: this times the measured real-time factor"],
            ]),
        ],
        notes=[
            "WER = (substitutions + deletions + insertions) / reference words; it can exceed 100%. CER is the same "
            "on characters and is kinder to near misses.",
            "RTF (compute time / audio time) below 1 means faster than real time; it sets the fleet size.",
            "On device: privacy, no network, works offline, but a small model and no fast updates. In the cloud: "
            "a larger model and central improvements, at the cost of a network hop inside the latency budget.",
        ],
        artifacts={"speakers": speakers, "splits": splits, "frame_baseline": {"hypotheses": frame_hyps}},
    )
