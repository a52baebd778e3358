"""Monitoring: half-way through the monitored days a new device brings noisy audio.
Detect it before any transcript exists, from the model's confidence and the input's
noise floor; confirm with WER on a transcribed sample; recover by fine-tuning on
noisy copies of the training audio. Production speaks with the validation voices (never
heard in training), so the reference and production differ only by the incident. Then
diarization: who spoke when in multi-speaker recordings, from per-window speaker
embeddings clustered without labels, scored by DER."""

from __future__ import annotations

import copy

import numpy as np

from mlsd.designs.speech.ctc_decoding import greedy
from mlsd.designs.speech import world
from mlsd.designs.speech.asr import ALPHABET, features, posteriors, tidy, train
from mlsd.designs.speech.diarization import Segment, cluster_segments, diarization_error_rate
from mlsd.blocks.monitoring.drift import psi
from mlsd.results import Chart, Series, StageResult, Table, metric

CONFIDENCE_SIGMAS = 4.0
FLOOR_RISE_DB = 6.0       # alarm when the day's mean noise floor is this far above validation's
WER_ALARM_RISE = 0.05     # labelled WER this far above validation confirms the problem
WINDOW_S = 0.5            # diarization: one embedding per half second of speech
CLUSTER_THRESHOLDS = (0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3)  # cosine distances tried on development
FINETUNE_SHARE = 0.5      # fine-tuning set: this share of the training set replayed, the rest as noisy copies


def frame_energies(audio: np.ndarray) -> np.ndarray:
    """Mean power of each 20 ms frame (160 samples at 8 kHz)."""
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)
    return np.mean(frames**2, axis=1)


def noise_floor_db(audio: np.ndarray) -> float:
    """The 10th percentile of 20 ms frame energies: the level between words."""
    return float(np.percentile(10 * np.log10(frame_energies(audio) + 1e-12), 10))


def estimated_snr_db(audio: np.ndarray) -> float:
    """Signal-to-noise ratio read from the audio alone: the quietest 20 ms frames (between
    words) give the noise power, the whole recording signal plus noise."""
    noise = float(np.percentile(frame_energies(audio), 10))
    total = float(np.mean(audio**2))
    return float(10 * np.log10(max(total - noise, 1e-12) / max(noise, 1e-12)))


def confidence(post: list[np.ndarray]) -> np.ndarray:
    """Mean best-symbol probability over the frames where the model emits a character."""
    out = []
    for p in post:
        best = p.max(axis=1)
        emitting = p.argmax(axis=1) != 0
        out.append(float(np.exp(best[emitting]).mean()) if emitting.any() else 0.0)
    return np.array(out)


def recording(cfg, speakers, rng) -> tuple[list[Segment], list[int], np.ndarray, int, float]:
    """One recording of 2-3 speakers taking 4-6 turns: its reference turns, the start
    sample of each half-second window, the windows' embeddings (mean and spread of their
    log-mel frames and a coarse log spectrum), the true speaker count and the length (s)."""
    chosen = rng.choice(len(speakers), int(rng.integers(2, 4)), replace=False)
    turns = [int(chosen[i % len(chosen)]) for i in range(int(rng.integers(4, 7)))]
    audio, reference, t = [], [], 0.0
    for s in turns:
        u = world.synthesize(world.sentence(rng), s, speakers[s], rng, cfg.snr_db)
        reference.append(Segment(t + 0.1, t + len(u.audio) / world.SAMPLE_RATE - 0.1, f"spk{s}"))
        audio.append(u.audio)
        t += len(u.audio) / world.SAMPLE_RATE
    signal = np.concatenate(audio)
    step = int(WINDOW_S * world.SAMPLE_RATE)
    starts = list(range(0, len(signal) - step + 1, step))
    feats = features([signal[i:i + step] for i in starts])
    mel = np.array([np.concatenate([f.mean(0).numpy(), f.std(0).numpy()]) for f in feats])
    spectrum = np.array([np.log(np.abs(np.fft.rfft(signal[i:i + step]))[:400] + 1e-6).reshape(40, 10).mean(1)
                         for i in starts])
    return reference, starts, np.hstack([mel, spectrum]), len(chosen), len(signal) / world.SAMPLE_RATE


def cluster_and_score(rec, threshold: float | None) -> tuple[float, int]:
    """DER of one recording and the number of speakers found: clustering cut at a cosine
    distance `threshold`, or, when it is None, told the true count."""
    reference, starts, embeddings, n_true, _ = rec
    options = {"n_speakers": n_true} if threshold is None else {"distance_threshold": threshold}
    labels = cluster_segments(embeddings, **options)
    hypothesis = [Segment(i / world.SAMPLE_RATE, i / world.SAMPLE_RATE + WINDOW_S, f"h{label}")
                  for i, label in zip(starts, labels)]
    return diarization_error_rate(reference, hypothesis, collar=0.25).total, len(set(labels.tolist()))


def diarize(cfg, speakers, rng) -> tuple[list, dict[str, float]]:
    """Who spoke when, without being told how many spoke: the clustering threshold is
    chosen on labelled development recordings, then applied to fresh ones. The true count
    is used only to show what knowing it would be worth."""
    development = [recording(cfg, speakers, rng) for _ in range(cfg.recordings)]
    threshold = min(CLUSTER_THRESHOLDS,
                    key=lambda th: (np.mean([cluster_and_score(rec, th)[0] for rec in development]), th))
    test = [recording(cfg, speakers, rng) for _ in range(cfg.recordings)]
    estimated, counts = zip(*(cluster_and_score(rec, threshold) for rec in test))
    known = [cluster_and_score(rec, None)[0] for rec in test]
    one = [diarization_error_rate(ref, [Segment(0.0, length, "h0")], collar=0.25).total
           for ref, _, _, _, length in test]
    rows = [[r + 1, test[r][3], counts[r], round(estimated[r], 3), round(known[r], 3), round(one[r], 3)]
            for r in range(min(4, len(test)))]
    return rows, {"der": float(np.mean(estimated)), "known_count": float(np.mean(known)),
                  "one_speaker": float(np.mean(one)), "threshold": threshold,
                  "count_right": float(np.mean([c == rec[3] for c, rec in zip(counts, test)]))}


def run(ctx) -> StageResult:
    import jiwer

    cfg = ctx.config
    model, speakers, norm = ctx.need("model"), ctx.need("speakers"), ctx.need("norm")
    feats, splits, train_utts = ctx.need("feats"), ctx.need("splits"), ctx.need("train")
    val_post = posteriors(model, feats["val"])
    val_conf = confidence(val_post)
    val_wer = jiwer.wer([u.text for u in splits["val"]], [tidy(greedy(p, ALPHABET)) for p in val_post])
    reference_floor = np.array([noise_floor_db(u.audio) for u in splits["val"]])
    shift_day = cfg.monitor_days // 2 + 1
    rows, conf_day, input_day, label_day, deploy_day = [], None, None, None, None
    sample_wer: dict[int, float] = {}  # day -> WER of the day's labelled sample
    production, tuned, snr_estimate = model, None, None
    false_alarms = quiet_days = 0  # scored against the truth afterwards; no alarm reads it
    series = {"confidence x100": [], "WER x100 (sample)": []}
    for day in range(1, cfg.monitor_days + 1):
        if day == deploy_day:
            production = tuned
        snr = cfg.shifted_snr_db if day >= shift_day else cfg.snr_db
        today = world.generate(cfg.utterances_per_day, speakers["val"], ctx.rng, snr)
        post = posteriors(production, features([u.audio for u in today], norm))
        conf = confidence(post)
        floors = np.array([noise_floor_db(u.audio) for u in today])
        day_psi = psi(reference_floor, floors)
        conf_alarm = conf.mean() < val_conf.mean() - CONFIDENCE_SIGMAS * val_conf.std() / np.sqrt(len(conf))
        floor_alarm = floors.mean() > reference_floor.mean() + FLOOR_RISE_DB
        if conf_day is None and conf_alarm:
            conf_day = day
        if input_day is None and floor_alarm:
            input_day = day
        sample = today[: cfg.labelled_per_day]
        wer = jiwer.wer([u.text for u in sample], [tidy(greedy(p, ALPHABET)) for p in post[: cfg.labelled_per_day]])
        wer_alarm = (conf_alarm or floor_alarm) and wer > val_wer + WER_ALARM_RISE
        if day < shift_day:  # a day the generator made without an incident
            quiet_days += 1
            false_alarms += int(conf_alarm or floor_alarm or wer_alarm)
        if label_day is None and wer_alarm:
            label_day, deploy_day = day, day + 1
            # The new device's noise level, read from today's audio: the true SNR is the generator's.
            snr_estimate = float(np.median([estimated_snr_db(u.audio) for u in today]))
            order, half = ctx.rng.permutation(len(train_utts)), int(FINETUNE_SHARE * len(train_utts))
            replay = [train_utts[i] for i in order[:half]]  # old audio as it was, so it is not forgotten
            noisy = [world.with_noise(train_utts[i], snr_estimate, ctx.rng) for i in order[half:2 * half]]
            augmented = replay + noisy
            tuned = copy.deepcopy(production)
            train(tuned, features([u.audio for u in augmented], norm), [u.text for u in augmented],
                  epochs=cfg.finetune_epochs, batch_size=cfg.batch_size, lr=cfg.learning_rate / 2, spec_augment=True,
                  rng=np.random.default_rng(ctx.seed + 1), progress=ctx.progress,
                  description="fine-tuning on noise-augmented audio")
        sample_wer[day] = wer
        rows.append([day, f"{snr:g} dB", round(float(floors.mean()), 1), round(day_psi, 3),
                     round(float(conf.mean()), 3), round(wer, 3), "fine-tuned" if production is tuned else "original"])
        series["confidence x100"].append(100 * float(conf.mean()))
        series["WER x100 (sample)"].append(100 * wer)
    after = [w for day, w in sample_wer.items() if deploy_day and day >= deploy_day]
    before = [w for day, w in sample_wer.items() if day >= shift_day and (deploy_day is None or day < deploy_day)]
    diar_rows, diar = diarize(cfg, [voice for group in speakers.values() for voice in group], ctx.rng)
    return StageResult(
        stage="monitoring",
        headline=f"Noisy audio from day {shift_day}: confidence alarm day {conf_day}, noise-floor alarm day {input_day}, "
                 f"WER on transcribed samples confirmed day {label_day}; fine-tuned model from day {deploy_day}. "
                 f"Diarization error rate {diar['der']:.1%} with the speaker count estimated, against "
                 f"{diar['one_speaker']:.1%} for one speaker.",
        metrics=[
            metric("confidence_alarm_day", conf_day if conf_day else float("nan"), target=shift_day),
            metric("drift_alarm_day", input_day if input_day else float("nan"), target=shift_day,
                   label="noise-floor alarm (day)"),
            metric("label_alarm_day", label_day if label_day else float("nan"), label="WER confirmed (day)"),
            metric("recovery_wer", float(np.mean(after)) if after else float("nan"),
                   baseline=float(np.mean(before)) if before else None,
                   label="sample WER after fine-tuning (baseline: shifted days before)"),
            metric("false_alarm_rate", false_alarms / quiet_days,
                   label=f"days without an incident on which an alarm fired ({false_alarms} of {quiet_days})"),
            metric("der", diar["der"], baseline=diar["one_speaker"],
                   label="diarization error rate, speaker count estimated (baseline: one speaker)"),
        ],
        tables=[
            Table("Day by day", ["day", "SNR", "noise floor dB", "floor PSI", "confidence", "WER (sample)", "model"],
                  rows, caption=f"Confidence: mean probability of the emitted characters, alarm "
                                f"{CONFIDENCE_SIGMAS:g} standard errors below validation. Noise floor: 10th percentile "
                                f"of 20 ms frame energy, alarm {FLOOR_RISE_DB:g} dB above validation (its PSI is shown; "
                                f"with {cfg.utterances_per_day} utterances a day it is too noisy to alarm on). WER: "
                                f"{cfg.labelled_per_day} utterances a day sent for transcription."),
            Table("Diarization (first test recordings)",
                  ["recording", "speakers", "speakers found", "DER", "DER, count given", "DER, one speaker"],
                  diar_rows, caption=f"{cfg.recordings} test recordings; embeddings of {WINDOW_S} s windows (log-mel "
                                     "mean and spread, coarse spectrum), agglomerative clustering cut at cosine "
                                     f"distance {diar['threshold']:g}, chosen on {cfg.recordings} labelled development "
                                     f"recordings; the count came out right in {diar['count_right']:.0%} of test "
                                     "recordings. DER with a 0.25 s collar (mlsd.designs.speech.diarization, md-eval "
                                     "formulas)."),
        ],
        charts=[Chart("Signals by day", "day", "value",
                      [Series(name, list(range(1, cfg.monitor_days + 1)), v) for name, v in series.items()])],
        notes=[
            "Confidence and the input's noise floor need no transcript, so they flag the new device the day it "
            "arrives; a small transcribed sample confirms the WER cost before anyone retrains.",
            f"Fine-tuning on {FINETUNE_SHARE:.0%} of the training set replayed plus noisy copies of as many "
            f"other training utterances at the new device's noise level, estimated from the alarm day's audio ("
            f"{'none' if snr_estimate is None else f'{snr_estimate:.1f} dB'}; the generator used "
            f"{cfg.shifted_snr_db:g} dB), teaches the model the new condition without forgetting the old: noise "
            "augmentation of transcribed audio already owned, cheaper than transcribing new recordings.",
            "Diarization is clustering: without labels, the number of clusters and the embedding decide the "
            "result, and DER charges missed speech, false alarms and speaker confusion alike. Production does not "
            "know how many people spoke, so the clustering threshold is tuned on labelled recordings and the count "
            f"falls out of it. Given the true count instead, DER is {diar['known_count']:.1%}: on these recordings "
            f"the tuned threshold does {'better than' if diar['der'] < diar['known_count'] else 'no better than'} "
            "being told how many spoke.",
        ],
    )
