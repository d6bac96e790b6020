import cv2
import numpy as np
import pytest

from core.classes import CLASS_NAMES
from core.demo.clips import SUBCATEGORIES, ClipSpec, generate_demo_videos, plan_clips, render_clip
from core.demo.scenes import FAMILIES, FAMILY_SCENES, SCENES, scene

WIDTH, HEIGHT, FRAMES = 128, 96, 10


def _decode(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    ok, frame = capture.read()
    while ok:
        frames.append(frame)
        ok, frame = capture.read()
    capture.release()
    return np.stack(frames)


def test_plan_covers_every_class_and_subcategory_with_distinct_seeds():
    specs = plan_clips(5, 10, num_frames=FRAMES, width=WIDTH, height=HEIGHT)
    assert [sum(s.category == c for s in specs) for c in CLASS_NAMES] == [10, 10, 10, 10]
    assert {(s.category, s.subcategory) for s in specs} == {
        (c, s) for c, subs in SUBCATEGORIES.items() for s in subs
    }
    other_split = plan_clips(6, 10, num_frames=FRAMES, width=WIDTH, height=HEIGHT)
    assert not {s.seed for s in specs} & {s.seed for s in other_split}
    assert plan_clips(5, 10, num_frames=FRAMES, width=WIDTH, height=HEIGHT) == specs


def test_every_class_writes_decodable_mp4s_of_the_requested_size_and_length(tmp_path):
    specs = plan_clips(1, 5, num_frames=FRAMES, width=WIDTH, height=HEIGHT)
    paths = generate_demo_videos(tmp_path, specs)
    assert len(paths) == 20
    for spec, path in zip(specs, paths, strict=True):
        assert path.parent == tmp_path / spec.category / spec.subcategory
        frames = _decode(path)
        assert frames.shape == (FRAMES, HEIGHT, WIDTH, 3), path
        assert frames.std() > 5, f"{path} is blank"


def test_generator_is_deterministic_whatever_the_number_of_worker_processes(tmp_path):
    specs = plan_clips(3, 5, num_frames=FRAMES, width=WIDTH, height=HEIGHT)
    first = generate_demo_videos(tmp_path / "a", specs)
    second = generate_demo_videos(tmp_path / "b", specs, workers=2)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    different = render_clip(ClipSpec("Gaming", "platformer", specs[0].seed + 1, FRAMES, WIDTH, HEIGHT))
    same = render_clip(ClipSpec("Gaming", "platformer", specs[0].seed + 1, FRAMES, WIDTH, HEIGHT))
    assert np.array_equal(different, same)
    assert not np.array_equal(
        different, render_clip(ClipSpec("Gaming", "platformer", 0, FRAMES, WIDTH, HEIGHT))
    )


@pytest.mark.parametrize("subcategory", [s for subs in SUBCATEGORIES.values() for s in subs])
def test_every_subcategory_moves_over_time(subcategory):
    category = next(c for c, subs in SUBCATEGORIES.items() if subcategory in subs)
    frames = render_clip(ClipSpec(category, subcategory, 11, 24, WIDTH, HEIGHT))
    assert frames.dtype == np.uint8 and frames.shape == (24, HEIGHT, WIDTH, 3)
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean() > 0.5


def test_unknown_subcategory_names_the_known_ones():
    with pytest.raises(ValueError, match="Gaming/platformer"):
        render_clip(ClipSpec("Gaming", "chess", 0))


def test_each_scene_is_registered_once_under_its_class():
    assert list(SCENES) == list(CLASS_NAMES)
    assert {category: tuple(subs) for category, subs in SCENES.items()} == SUBCATEGORIES
    assert SUBCATEGORIES["Gaming"] == (
        "platformer", "top_down", "corridor_3d", "racing", "shooter", "puzzle", "title_menu", "arcade",
    )  # fmt: skip
    names = [s for subs in SUBCATEGORIES.values() for s in subs]
    assert len(names) == len(set(names)) == 28
    assert all(SCENES[c][s].__module__.endswith(c.lower()) for c, subs in SUBCATEGORIES.items() for s in subs)


def test_scene_registration_refuses_duplicates_and_unknown_classes():
    with pytest.raises(ValueError, match="already registered under Animation"):
        scene("Gaming", "cel_scenes")
    with pytest.raises(ValueError, match="unknown class 'Sports'"):
        scene("Sports", "football")
    assert "football" not in {s for subs in SCENES.values() for s in subs}


def test_alike_scenes_draw_each_split_from_its_own_family():
    assert {
        ("Flat_Content", "documents_code"), ("Flat_Content", "terminal"), ("Natural_Content", "clouds"),
        ("Natural_Content", "foliage"), ("Natural_Content", "water"),
    } == FAMILY_SCENES  # fmt: skip
    assert [s.family for s in plan_clips(5, 2, family=2)] == [2] * 8
    for category, subcategory in FAMILY_SCENES:
        looks = [
            render_clip(ClipSpec(category, subcategory, 7, FRAMES, WIDTH, HEIGHT, family=f)).mean(
                axis=(0, 1, 2)
            )
            for f in range(FAMILIES)
        ]
        # Same seed, other family: another palette, not the same clip.
        assert min(np.abs(a - b).max() for i, a in enumerate(looks) for b in looks[i + 1 :]) > 10, subcategory
