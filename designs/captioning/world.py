"""The captioning corpus: rendered scenes with human-style reference captions, the
dirt a real annotation pipeline produces, the checks that find it, and a split that
keeps identical scenes on one side.

Each image gets `references` captions in different wordings. The ceiling a correct
caption reaches is human agreement, each reference scored against the others
(`scoring.human_agreement`), so no caption is held back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from mlsd.blocks.synthetic import scenes as scene_lib

_CLEAN = re.compile(r"[^a-z ]+")


@dataclass
class Split:
    scenes: list[scene_lib.Scene]
    images: np.ndarray                 # uint8 (n, size, size, 3)
    references: list[list[str]]

    def __len__(self) -> int:
        return len(self.scenes)

    def subset(self, index) -> Split:
        index = np.asarray(index)
        return Split([self.scenes[i] for i in index], self.images[index], [self.references[i] for i in index])

    def concat(self, other: Split) -> Split:
        return Split(self.scenes + other.scenes, np.concatenate([self.images, other.images]),
                     self.references + other.references)


@dataclass(frozen=True)
class Dirt:
    corrupt_images: np.ndarray   # row indices
    empty_captions: np.ndarray
    duplicate_captions: np.ndarray
    messy_captions: np.ndarray   # upper case and punctuation: fixable


def generate(n: int, cfg, rng: np.random.Generator, **scene_options) -> Split:
    """`n` scenes rendered and captioned (`cfg.references` captions each)."""
    scenes = scene_lib.sample_scenes(n, rng, **{k: v for k, v in scene_options.items()
                                                if k in ("shapes", "colours", "must_include")})
    render_options = {k: v for k, v in scene_options.items() if k in ("brightness", "tint", "noise", "clutter")}
    images = scene_lib.render(scenes, rng, size=cfg.image_size, **render_options)
    return Split(scenes, images, [scene_lib.captions(s, rng, cfg.references) for s in scenes])


def inject_dirt(split: Split, share: float, rng: np.random.Generator) -> Dirt:
    """Corrupt `share` of rows each way, in place, as a flaky upload path and careless
    annotators would: blank images, empty captions, a caption pasted twice, SHOUTING."""
    n = len(split)
    count = int(round(share * n))
    rows = rng.permutation(n)
    picks = [np.sort(rows[i * count:(i + 1) * count]) for i in range(4)]
    for i in picks[0]:
        split.images[i] = 0
    for i in picks[1]:
        split.references[i][int(rng.integers(len(split.references[i])))] = ""
    for i in picks[2]:
        refs = split.references[i]
        refs[1] = refs[0]
    for i in picks[3]:
        refs = split.references[i]
        refs[0] = refs[0].upper() + "."
    return Dirt(*picks)


def normalise(caption: str) -> str:
    return " ".join(_CLEAN.sub(" ", caption.lower()).split())


def check(split: Split) -> tuple[Split, list[list]]:
    """Find and fix what `inject_dirt` did, without being told: normalise case and
    punctuation, drop blank images and images whose references are empty or repeated.
    Returns the clean split and a report (check, action, rows)."""
    refs = [[normalise(c) for c in r] for r in split.references]
    messy = sum(any(c != raw for c, raw in zip(r, raw_r)) for r, raw_r in zip(refs, split.references))
    blank = split.images.reshape(len(split), -1).std(axis=1) < 1.0
    empty = np.array([any(not c for c in r) for r in refs])
    duplicate = np.array([len(set(r)) < len(r) for r in refs])
    keep = ~(blank | empty | duplicate)
    clean = Split(split.scenes, split.images, refs).subset(np.flatnonzero(keep))
    report = [
        ["blank or unreadable image (pixel std < 1)", "drop the row", int(blank.sum())],
        ["empty reference caption", "drop the row", int(empty.sum())],
        ["the same caption twice for one image", "drop the row", int(duplicate.sum())],
        ["upper case or punctuation in a caption", "normalise", int(messy)],
    ]
    return clean, report


def split_by_scene(data: Split, shares: tuple[float, float], rng: np.random.Generator
                   ) -> tuple[Split, Split, Split, float]:
    """Train / validation / test by scene content: every image of one scene key (what
    it shows, ignoring exact positions) lands in one split. Returns the splits and the
    share of test images whose exact content a random split would have put in train."""
    keys = [s.key for s in data.scenes]
    unique = sorted(set(keys))
    draw = dict(zip(unique, rng.uniform(size=len(unique))))
    val_share, test_share = shares
    u = np.array([draw[k] for k in keys])
    test = np.flatnonzero(u < test_share)
    val = np.flatnonzero((u >= test_share) & (u < test_share + val_share))
    train = np.flatnonzero(u >= test_share + val_share)
    shuffled = rng.permutation(len(keys))  # what a naive random split would do
    naive_test, naive_train = shuffled[:len(test)], shuffled[len(test):]
    seen = {keys[i] for i in naive_train}
    leak = float(np.mean([keys[i] in seen for i in naive_test])) if len(naive_test) else 0.0
    return data.subset(train), data.subset(val), data.subset(test), leak
