"""The speech walkthrough quotes figures from `mlsd run speech` at default scale, seed
0. This runs it (about 50 s, hence `slow`: `make test-all` runs it) and checks the
quoted quality figures are the ones printed. Timings are not checked."""

from __future__ import annotations

import pytest

from mlsd import walkthrough_reader
from mlsd.registry import get_design
from mlsd.runner import run_design


@pytest.mark.slow
def test_walkthrough_quotes_the_default_run():
    run = run_design(get_design("speech"), scale="default", seed=0)
    text = walkthrough_reader.load("speech").to_markdown()

    def rows(stage, title):
        table = next(t for t in run.stage(stage).tables if t.title.startswith(title))
        return table.rows

    wer = {(r[0], r[1]): r[2] for r in rows("model", "Word and character error rates")}
    sweep = {r[0]: r[1] for r in rows("model", "LM fusion weight sweep")}
    streaming = {r[0]: r[1] for r in rows("serving", "Streaming against full context")}
    after_finetune = run.stage("monitoring").metric("wer")
    quoted = [
        f"**{wer[('Conformer-CTC, SpecAugment, greedy', 'test')]:.4f}**",
        f"**{wer[('frame classifier (baseline)', 'test')]:.4f}**",
        f"{wer[('Conformer-CTC, SpecAugment, greedy', 'noisy_test')]:.4f}",
        f"{wer[('Conformer-CTC, no augmentation, greedy', 'noisy_test')]:.4f}",
        f"{sweep[0.0]:.4f}", f"{sweep[0.3]:.4f}",
        f"{streaming['streaming, 160 ms chunks (configured)']:.4f}", f"{streaming['streaming, 400 ms chunks']:.4f}",
        f"{after_finetune.value:.4f}",
        f"{after_finetune.baseline:.4f}",
    ]
    missing = [q for q in quoted if q not in text]
    assert not missing, f"walkthroughs/speech.md no longer quotes the run: {missing}"
