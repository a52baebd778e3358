"""Every heavy dependency the designs use imports and does one real thing.

A torchaudio patch release that cannot load against the pinned torch once broke fresh
clones with a collection error deep in the speech tests. Here a broken install fails
in one line that names the package and what to do (`make clean test` reinstalls from
requirements.lock). Each check runs in a fresh interpreter, so one broken library
cannot hide another.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

# module -> a statement that exercises its compiled code, not only its Python wrapper
CHECKS = {
    "torch": "import torch; assert float(torch.ones(3).sum()) == 3.0",
    "torchaudio": "import torch, torchaudio; torchaudio.transforms.MelSpectrogram(n_fft=64, n_mels=8)(torch.zeros(1, 256))",
    "faiss": "import faiss, numpy as np; i = faiss.IndexFlatL2(4); i.add(np.eye(4, dtype='float32')); assert i.ntotal == 4",
    "lightgbm": ("import lightgbm, numpy as np; x = np.arange(40.0).reshape(-1, 1); "
                 "m = lightgbm.LGBMRegressor(n_estimators=2, min_child_samples=2, verbose=-1).fit(x, x[:, 0]); "
                 "assert m.predict(x).shape == (40,)"),
    "sklearn": "from sklearn.metrics import roc_auc_score; assert roc_auc_score([0, 1], [0.1, 0.9]) == 1.0",
    "sentencepiece": "import sentencepiece; sentencepiece.SentencePieceProcessor()",
    "sacrebleu": "import sacrebleu; assert sacrebleu.corpus_bleu(['a b c d'], [['a b c d']]).score > 99.9",
    "jiwer": "import jiwer; assert jiwer.wer('a b', 'a c') == 0.5",
    "duckdb": "import duckdb; assert duckdb.sql('select 41 + 1').fetchall() == [(42,)]",
    "implicit": ("import numpy as np, scipy.sparse as sp; from implicit.nearest_neighbours import CosineRecommender; "
                 "m = CosineRecommender(K=2); m.fit(sp.csr_matrix(np.eye(4, dtype=np.float32)), show_progress=False); "
                 "assert m.similarity.shape == (4, 4)"),
}


@pytest.mark.parametrize("module", sorted(CHECKS))
def test_dependency_loads(module):
    proc = subprocess.run([sys.executable, "-c", CHECKS[module]], capture_output=True, text=True, timeout=120)
    last_line = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
    assert proc.returncode == 0, (
        f"{module} does not load: {last_line}. The installed versions differ from requirements.lock "
        "or do not work together: run `make clean test` to reinstall from the lock.")


def test_torch_and_torchaudio_are_the_locked_pair():
    """torchaudio is built against one torch release; the lock pins the pair together."""
    lock = {}
    for line in (Path(__file__).resolve().parent.parent / "requirements.lock").read_text().splitlines():
        name, sep, rest = line.partition("==")
        if sep and not line.startswith((" ", "#")):
            lock[name.strip()] = rest.split(";")[0].strip()
    for package in ("torch", "torchaudio"):
        assert version(package).split("+")[0] == lock[package], (
            f"{package} {version(package)} is installed but requirements.lock pins {lock[package]}: "
            "run `make clean test`")
