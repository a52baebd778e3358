"""The captioning pieces on their own: the scene renderer and its captions, the data
checks, the split, the vocabulary, beam search and vocabulary expansion."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from mlsd.blocks.synthetic import scenes
from mlsd.designs.captioning import world
from mlsd.designs.captioning.model import shade_picture
from mlsd.designs.captioning.network import Captioner, Vocabulary, expand_vocabulary

CFG = SimpleNamespace(image_size=32, references=5)


def test_scenes_are_deterministic_and_captions_describe_them():
    a = scenes.sample_scenes(50, np.random.default_rng(7))
    b = scenes.sample_scenes(50, np.random.default_rng(7))
    assert a == b
    rng = np.random.default_rng(0)
    for scene in a:
        caps = scenes.captions(scene, rng, 6)
        assert len(set(caps)) == 6
        assert max(scenes.object_f1(c, scene) for c in caps) == 1.0  # some caption names every object
        assert all(scenes.object_f1(c, scene) > 0 for c in caps)     # and none names a wrong one only


def test_render_draws_the_objects_in_their_colours():
    scene = scenes.Scene((scenes.SceneObject("square", "red", "large", 0.5, 0.5),))
    image = scenes.render([scene], np.random.default_rng(0), size=32, noise=0.0, clutter=0)[0]
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    centre = image[16, 16].astype(int)
    assert centre[0] > 150 and centre[1] < 90 and centre[2] < 90


def test_relation_and_object_parsing():
    left = scenes.SceneObject("circle", "red", "small", 0.2, 0.5)
    right = scenes.SceneObject("square", "blue", "small", 0.8, 0.55)
    assert scenes.relation(left, right) == "to the left of"
    assert scenes.relation(right, left) == "to the right of"
    assert scenes.mentioned_objects("a small red circle to the left of a blue square") == {
        ("red", "circle"), ("blue", "square")}
    assert scenes.object_f1("a red circle and a green cross", scenes.Scene((left, right))) == 0.5


def test_new_colours_appear_only_when_asked_for():
    rng = np.random.default_rng(1)
    plain = scenes.sample_scenes(200, rng)
    assert not any(o.colour == "purple" for s in plain for o in s.objects)
    launched = scenes.sample_scenes(50, rng, colours=(*scenes.COLOURS, "purple"), must_include=("purple",))
    assert all(any(o.colour == "purple" for o in s.objects) for s in launched)


def test_checks_find_exactly_the_planted_dirt():
    rng = np.random.default_rng(3)
    split = world.generate(400, CFG, rng)
    dirt = world.inject_dirt(split, 0.05, rng)
    clean, report = world.check(split)
    found = {row[0]: row[2] for row in report}
    assert list(found.values()) == [len(dirt.corrupt_images), len(dirt.empty_captions),
                                    len(dirt.duplicate_captions), len(dirt.messy_captions)] == [20] * 4
    assert len(clean) == 400 - 60
    assert all(c == world.normalise(c) and c for refs in clean.references for c in refs)


def test_split_by_scene_keeps_each_scene_on_one_side():
    rng = np.random.default_rng(4)
    data = world.generate(1500, CFG, rng)
    train, val, test, naive_leak = world.split_by_scene(data, (0.1, 0.15), rng)
    keys = [{s.key for s in part.scenes} for part in (train, val, test)]
    assert not (keys[0] & keys[2]) and not (keys[0] & keys[1]) and not (keys[1] & keys[2])
    assert len(train) + len(val) + len(test) == 1500
    assert naive_leak > 0.1  # single-object scenes repeat: a random split would leak them


def test_vocabulary_round_trip():
    vocab = Vocabulary.build(["a red circle", "a blue square"])
    ids = vocab.encode("a red circle", 8)
    assert len(ids) == 8 and vocab.decode(ids[1:]) == "a red circle"
    assert vocab.decode(vocab.encode("a purple circle", 8)[1:]) == "a <unk> circle"


def test_beam_width_one_is_greedy_and_beam_returns_a_caption_per_image():
    torch.manual_seed(0)
    vocab = Vocabulary.build(["a small red circle", "a large blue square to the left of a white cross"])
    model = Captioner(vocab).eval()
    images = torch.from_numpy(scenes.render(scenes.sample_scenes(6, np.random.default_rng(0)),
                                            np.random.default_rng(0)))
    assert model.beam(images, width=1, max_len=10) == model.greedy(images, 10)[0]
    beams = model.beam(images, width=3, max_len=10)
    assert len(beams) == 6 and all(isinstance(c, str) for c in beams)


def test_vocabulary_expansion_keeps_what_the_model_knew():
    torch.manual_seed(0)
    old = Vocabulary.build(["a red circle", "a blue square"])
    model = Captioner(old).eval()
    new = Vocabulary.build(["a red circle", "a blue square", "a purple diamond"])
    bigger = expand_vocabulary(model, new).eval()
    images = torch.from_numpy(scenes.render(scenes.sample_scenes(3, np.random.default_rng(0)),
                                            np.random.default_rng(0)))
    tokens = torch.tensor([old.encode("a red circle", 6)] * 3)
    tokens_new = torch.tensor([new.encode("a red circle", 6)] * 3)
    old_logits, new_logits = model(images, tokens), bigger(images, tokens_new)
    shared = [(new.stoi[w], i) for i, w in enumerate(old.itos)]
    for j, i in shared:
        assert torch.allclose(old_logits[..., i], new_logits[..., j], atol=1e-5)


def test_shade_picture_is_a_grid_of_characters():
    picture = shade_picture(np.arange(16, dtype=float).reshape(4, 4))
    lines = picture.splitlines()
    assert len(lines) == 4 and all(len(line) == 8 for line in lines)
    assert lines[0][0] == " " and lines[-1][-1] == "@"


def test_the_decoder_is_the_narrowest_width_within_noise_of_the_best():
    from mlsd.blocks.uncertainty import mean_of
    from mlsd.designs.captioning.model import choose_width

    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, 300)
    close = {1: mean_of(base), 3: mean_of(base + 0.01 + rng.normal(0, 0.3, 300)),
             5: mean_of(base + 0.005 + rng.normal(0, 0.3, 300))}
    width, gaps = choose_width(close, 300, seed=0)
    assert width == 1 and not gaps[1].excludes_zero()  # a wider beam is best, by less than the noise
    clear = {1: mean_of(base), 3: mean_of(base + 0.02), 5: mean_of(base + 0.2 + rng.normal(0, 0.01, 300))}
    width, gaps = choose_width(clear, 300, seed=0)
    assert width == 5 and gaps[1].excludes_zero() and gaps[3].excludes_zero()
