import numpy as np
import pytest

from mlsd.designs.speech.diarization import Segment, cluster_segments, diarization_error_rate

S = Segment


def test_perfect_hypothesis_with_other_names_scores_zero():
    ref = [S(0, 6, "A"), S(6, 10, "B")]
    hyp = [S(0, 6, "spk1"), S(6, 10, "spk0")]
    der = diarization_error_rate(ref, hyp)
    assert der.total == pytest.approx(0.0)
    assert der.mapping == {"spk1": "A", "spk0": "B"}
    assert der.reference_speech == pytest.approx(10.0)


def test_one_speaker_for_everyone_is_confusion():
    # X overlaps A for 6 s and B for 4 s -> X maps to A; B's 4 s are confused: 4 / 10
    der = diarization_error_rate([S(0, 6, "A"), S(6, 10, "B")], [S(0, 10, "X")])
    assert der.mapping == {"X": "A"}
    assert der.confusion == pytest.approx(4.0)
    assert der.missed == pytest.approx(0.0) and der.false_alarm == pytest.approx(0.0)
    assert der.total == pytest.approx(0.4)


def test_missed_and_false_alarm_seconds():
    # reference A 0-10; hypothesis covers 0-8 (2 s missed) and speaks 12-13 in silence (1 s FA)
    der = diarization_error_rate([S(0, 10, "A")], [S(0, 8, "X"), S(12, 13, "Y")])
    assert der.missed == pytest.approx(2.0)
    assert der.false_alarm == pytest.approx(1.0)
    assert der.confusion == pytest.approx(0.0)
    assert der.total == pytest.approx(3.0 / 10.0)
    assert der.mapping == {"X": "A"}


def test_collar_forgives_boundary_shift():
    ref = [S(0, 5, "A"), S(5, 10, "B")]
    hyp = [S(0, 5.2, "X"), S(5.2, 10, "Y")]
    # no collar: 5.0-5.2 is B labelled X -> 0.2 s confusion over 10 s
    plain = diarization_error_rate(ref, hyp)
    assert plain.confusion == pytest.approx(0.2)
    assert plain.total == pytest.approx(0.02)
    # collar 0.25 around boundaries 0, 5, 10 removes 0.25 + 0.5 + 0.25 = 1 s, the shift included
    collared = diarization_error_rate(ref, hyp, collar=0.25)
    assert collared.confusion == pytest.approx(0.0)
    assert collared.reference_speech == pytest.approx(9.0)
    assert collared.total == pytest.approx(0.0)


def test_overlapping_reference_uses_md_eval_counts():
    # ref A 0-4, B 3-6; hyp X 0-6.  overlap X-A 4 s > X-B 3 s -> X maps to A
    # 0-3: n_ref 1, n_hyp 1, correct               -> no error
    # 3-4: n_ref 2, n_hyp 1 -> missed 1 s; X=A correct -> confusion 0
    # 4-6: n_ref 1 (B), n_hyp 1 (X=A)              -> confusion 2 s
    # reference speech 4 + 3 = 7 s; DER = (1 + 2) / 7
    der = diarization_error_rate([S(0, 4, "A"), S(3, 6, "B")], [S(0, 6, "X")])
    assert der.mapping == {"X": "A"}
    assert der.missed == pytest.approx(1.0)
    assert der.confusion == pytest.approx(2.0)
    assert der.false_alarm == pytest.approx(0.0)
    assert der.reference_speech == pytest.approx(7.0)
    assert der.total == pytest.approx(3.0 / 7.0)


def _random_segments(rng, names, n):
    cuts = np.round(np.sort(rng.uniform(0, 20, size=2 * n)), 2)
    return [
        S(float(a), float(b), str(rng.choice(names)))
        for a, b in cuts.reshape(-1, 2)
        if b > a
    ]


def test_step_invariance():
    rng = np.random.default_rng(0)
    ref = _random_segments(rng, ["A", "B", "C"], 12)
    hyp = _random_segments(rng, ["x", "y"], 10)
    coarse = diarization_error_rate(ref, hyp, step=0.01)
    fine = diarization_error_rate(ref, hyp, step=0.005)
    assert coarse.total > 0
    for field in ("total", "missed", "false_alarm", "confusion", "reference_speech"):
        assert getattr(coarse, field) == pytest.approx(getattr(fine, field), abs=1e-2)
    assert coarse.mapping == fine.mapping


def test_cluster_segments_separates_two_speakers():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 0.1, size=(20, 16)) + np.eye(16)[0] * 3
    b = rng.normal(0, 0.1, size=(15, 16)) + np.eye(16)[1] * 3
    x = np.vstack([a, b])
    truth = np.array([0] * 20 + [1] * 15)
    for labels in (
        cluster_segments(x, n_speakers=2),
        cluster_segments(x, distance_threshold=0.5),
    ):
        assert len(set(labels)) == 2
        assert len(set(labels[truth == 0])) == 1 and len(set(labels[truth == 1])) == 1
    with pytest.raises(ValueError):
        cluster_segments(x)
