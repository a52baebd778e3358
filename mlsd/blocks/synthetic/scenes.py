"""Procedural images with known contents: the synthetic data of the image designs.

A scene is one to three objects, each a shape with a colour, a size and a position;
`render` draws scenes as small RGB images over a noisy, cluttered background, and
`captions` writes several reference captions per scene from varied templates ("a
small red circle to the left of a blue square", "a blue square with a red circle
beside it"). Because the generator knows every scene exactly, it can also say what
a caption gets right (`mentioned_objects`), which BLEU cannot.

Shapes and colours outside the training set (`NEW_SHAPES`, `NEW_COLOURS`) exist for
drift: the day a new product brings purple objects, the captioner has never seen one.
Everything is deterministic for a numpy Generator; thousands of images take well
under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "cross")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 45, 45), "green": (45, 165, 65), "blue": (55, 85, 215),
    "yellow": (225, 200, 40), "white": (235, 235, 235),
}
NEW_SHAPES: tuple[str, ...] = ("diamond",)
NEW_COLOURS: dict[str, tuple[int, int, int]] = {"purple": (150, 60, 195)}
ALL_COLOURS = COLOURS | NEW_COLOURS
SIZES: dict[str, float] = {"small": 0.13, "large": 0.22}  # radius as a share of the image side
RELATIONS = ("to the left of", "to the right of", "above", "below")
OBJECT_COUNTS = (1, 2, 3)
OBJECT_COUNT_P = (0.35, 0.45, 0.20)


@dataclass(frozen=True)
class SceneObject:
    shape: str
    colour: str
    size: str
    x: float  # centre, 0 (left) to 1 (right)
    y: float  # centre, 0 (top) to 1 (bottom)

    @property
    def phrase(self) -> str:
        return f"{self.size} {self.colour} {self.shape}"


@dataclass(frozen=True)
class Scene:
    objects: tuple[SceneObject, ...]

    @property
    def key(self) -> str:
        """What the scene shows, ignoring exact positions: two scenes with the same key
        must not land on both sides of a train/test split."""
        parts = [o.phrase for o in self.objects]
        if len(self.objects) >= 2:
            parts.append(relation(self.objects[0], self.objects[1]))
        return "|".join(parts)


def relation(a: SceneObject, b: SceneObject) -> str:
    """Where `a` is relative to `b`, along the axis where they differ most."""
    dx, dy = a.x - b.x, a.y - b.y
    if abs(dx) >= abs(dy):
        return "to the left of" if dx < 0 else "to the right of"
    return "above" if dy < 0 else "below"


def sample_scenes(n: int, rng: np.random.Generator, *, shapes: tuple[str, ...] = SHAPES,
                  colours: tuple[str, ...] = tuple(COLOURS), must_include: tuple[str, ...] = ()) -> list[Scene]:
    """`n` scenes; objects in one scene differ in colour or shape and do not overlap.
    `must_include` names colours or shapes of which every scene gets at least one."""
    scenes = []
    for _ in range(n):
        count = int(rng.choice(OBJECT_COUNTS, p=OBJECT_COUNT_P))
        objects: list[SceneObject] = []
        attempts = 0
        while len(objects) < count and attempts < 50:
            attempts += 1
            shape = str(rng.choice(shapes))
            colour = str(rng.choice(colours))
            if not objects and must_include:
                forced = str(rng.choice(must_include))
                if forced in ALL_COLOURS:
                    colour = forced
                else:
                    shape = forced
            size = str(rng.choice(tuple(SIZES)))
            radius = SIZES[size]
            x, y = rng.uniform(radius, 1 - radius, size=2)
            if any((o.shape, o.colour) == (shape, colour) for o in objects):
                continue
            if any(np.hypot(x - o.x, y - o.y) < radius + SIZES[o.size] + 0.04 for o in objects):
                continue
            objects.append(SceneObject(shape, colour, size, float(x), float(y)))
        scenes.append(Scene(tuple(objects)))
    return scenes


def _mask(shape: str, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    if shape == "circle":
        return dx**2 + dy**2 <= r**2
    if shape == "square":
        return (np.abs(dx) <= 0.8 * r) & (np.abs(dy) <= 0.8 * r)
    if shape == "triangle":  # apex up
        return (dy <= 0.8 * r) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.6)
    if shape == "cross":
        arm = 0.35 * r
        return ((np.abs(dx) <= arm) & (np.abs(dy) <= r)) | ((np.abs(dy) <= arm) & (np.abs(dx) <= r))
    if shape == "diamond":
        return np.abs(dx) + np.abs(dy) <= r
    raise ValueError(f"unknown shape {shape!r}")


def render(scenes: list[Scene], rng: np.random.Generator, *, size: int = 32, noise: float = 10.0,
           clutter: int = 3, brightness: float = 1.0, tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
           ) -> np.ndarray:
    """Images as uint8 (n, size, size, 3): a grey gradient background, `clutter` faint
    random strokes, the objects, then lighting (`brightness`, per-channel `tint`) and
    Gaussian pixel noise."""
    n = len(scenes)
    grid = (np.arange(size) + 0.5) / size
    gy, gx = np.meshgrid(grid, grid, indexing="ij")
    base = rng.uniform(70, 120, size=(n, 1, 1, 1)) + rng.uniform(-25, 25, size=(n, 1, 1, 1)) * gx[None, :, :, None]
    images = np.repeat(base, 3, axis=3).astype(np.float32)
    for i, scene in enumerate(scenes):
        image = images[i]
        for _ in range(clutter):  # faint strokes: texture the model must learn to ignore
            x0, y0, x1, y1 = rng.uniform(0, 1, size=4)
            t = np.linspace(0, 1, size * 2)
            xs = np.clip(((x0 + (x1 - x0) * t) * size).astype(int), 0, size - 1)
            ys = np.clip(((y0 + (y1 - y0) * t) * size).astype(int), 0, size - 1)
            image[ys, xs] += rng.uniform(-30, 30, size=3)
        for obj in scene.objects:
            mask = _mask(obj.shape, gx - obj.x, gy - obj.y, SIZES[obj.size])
            image[mask] = np.asarray(ALL_COLOURS[obj.colour], dtype=np.float32) * rng.uniform(0.85, 1.1)
    images *= brightness * np.asarray(tint, dtype=np.float32)
    images += rng.normal(0, noise, size=images.shape).astype(np.float32)
    return np.clip(images, 0, 255).astype(np.uint8)


def _name(obj: SceneObject, with_size: bool) -> str:
    return obj.phrase if with_size else f"{obj.colour} {obj.shape}"


def _templates(scene: Scene) -> list[str]:
    """Every way the captioners describe this scene."""
    objs = scene.objects
    if len(objs) == 1:
        a = objs[0]
        return [f"a {_name(a, True)}", f"a {_name(a, False)}", f"there is a {_name(a, True)}",
                f"a picture of a {_name(a, True)}", f"one {_name(a, False)} on a grey background",
                f"a single {_name(a, True)}"]
    a, b = objs[0], objs[1]
    rel = relation(a, b)
    inverse = {"to the left of": "to the right of", "to the right of": "to the left of",
               "above": "below", "below": "above"}[rel]
    if len(objs) == 2:
        return [f"a {_name(a, True)} {rel} a {_name(b, True)}", f"a {_name(b, True)} {inverse} a {_name(a, True)}",
                f"a {_name(a, False)} {rel} a {_name(b, False)}", f"a {_name(a, True)} and a {_name(b, True)}",
                f"a {_name(b, False)} with a {_name(a, False)} beside it",
                f"two shapes a {_name(a, True)} and a {_name(b, True)}"]
    c = objs[2]
    return [f"a {_name(a, True)} {rel} a {_name(b, True)} and a {_name(c, True)}",
            f"a {_name(a, True)} a {_name(b, True)} and a {_name(c, True)}",
            f"three shapes a {_name(a, False)} a {_name(b, False)} and a {_name(c, False)}",
            f"a {_name(b, True)} {inverse} a {_name(a, True)} with a {_name(c, True)}",
            f"a {_name(a, False)} and a {_name(b, False)} and a {_name(c, False)}",
            f"there are three shapes including a {_name(c, True)}"]


def captions(scene: Scene, rng: np.random.Generator, n: int = 5) -> list[str]:
    """`n` distinct captions of one scene, in random order (n at most 6)."""
    templates = _templates(scene)
    if n > len(templates):
        raise ValueError(f"at most {len(templates)} captions per scene, asked for {n}")
    order = rng.permutation(len(templates))[:n]
    return [templates[i] for i in order]


def mentioned_objects(caption: str) -> set[tuple[str, str]]:
    """The (colour, shape) pairs a caption names: what a human judge would check."""
    words = caption.split()
    colours, shapes = set(ALL_COLOURS), set(SHAPES) | set(NEW_SHAPES)
    found = set()
    for i in range(len(words) - 1):
        if words[i] in colours and words[i + 1] in shapes:
            found.add((words[i], words[i + 1]))
    return found


def object_f1(caption: str, scene: Scene) -> float:
    """F1 of the objects a caption names against the scene's: 1.0 means every object
    named, and nothing invented, whatever the wording."""
    said = mentioned_objects(caption)
    truth = {(o.colour, o.shape) for o in scene.objects}
    hits = len(said & truth)
    if not said or not hits:
        return 0.0
    precision, recall = hits / len(said), hits / len(truth)
    return 2 * precision * recall / (precision + recall)
