import numpy as np

import core.demo.scenes.game_art as art
import core.demo.scenes.raytrace as rt


def _stage(light):
    light = np.float32(light) / np.linalg.norm(light)
    return rt.Stage(
        sky_top=np.float32((0.2, 0.4, 0.9)),
        sky_horizon=np.float32((0.8, 0.9, 1.0)),
        ground=np.float32((0.4, 0.6, 0.3)),
        ground_texture=np.full((4, 4), 0.5, np.float32),
        light=light.astype(np.float32),
        fog=0.0,
    )


def _one_sphere(color=(1.0, 0.2, 0.2)):
    return rt.Spheres(
        np.float32([[0.0, 1.0, 0.0]]), np.float32([1.0]), np.float32([color]), np.float32([0.0])
    )


def test_camera_rays_are_unit_and_centred_on_the_target():
    eye, target = np.array([0.0, 1.0, -5.0]), np.array([0.0, 1.0, 0.0])
    rays = rt.camera_rays(31, 41, eye, target, 50)
    assert rays.shape == (31, 41, 3)
    np.testing.assert_allclose(np.linalg.norm(rays, axis=-1), 1, atol=1e-5)
    np.testing.assert_allclose(rays[15, 20], [0, 0, 1], atol=1e-6)
    assert rays[0, 20, 1] > 0 > rays[-1, 20, 1]  # top row looks up, bottom row down
    assert rays[15, 0, 0] < 0 < rays[15, -1, 0]  # left column looks left


def test_sphere_is_lit_on_the_light_side_and_casts_a_shadow_on_the_ground():
    eye = np.array([0.0, 1.0, -5.0])
    rays = rt.camera_rays(61, 81, eye, np.array([0.0, 1.0, 0.0]), 60)
    image = rt.render(rays, eye, _one_sphere(), _stage([-1.0, 1.0, -0.2])).astype(int)
    centre = image[30, 40]
    assert centre[0] > 2 * centre[1], "the sphere shows its red colour"
    lit_side, dark_side = image[30, 33].sum(), image[30, 47].sum()
    assert lit_side > dark_side + 30  # light comes from the left
    sky = image[0, 0]
    assert sky[2] > sky[0], "the sky above is blue"
    # Ground points (1.8, 0, 0.4) and (-1.8, 0, 0.4) land on pixels (43, 63) and (43, 17); the
    # first lies in the sphere's shadow (the light comes from the left), the second in the open.
    assert image[43, 63].sum() < image[43, 17].sum() - 30


def test_nothing_hit_shows_the_sky_gradient():
    eye = np.array([0.0, 1.0, -5.0])
    rays = rt.camera_rays(20, 20, eye, np.array([0.0, 6.0, 0.0]), 40)  # looking up at empty sky
    nowhere = rt.Spheres(
        np.float32([[0, -50, 0]]), np.float32([0.1]), np.float32([[1, 1, 1]]), np.float32([0])
    )
    image = rt.render(rays, eye, nowhere, _stage([0, 1, 0])).astype(int)
    assert image[0, 10, 2] > 200 and image[0, 10, 0] < image[-1, 10, 0]  # bluer at the top


def test_pixel_sprites_are_mirror_symmetric_and_outlined():
    rng = np.random.default_rng(4)
    for _ in range(20):
        colors, mask = art.pixel_sprite(rng, 8)
        assert mask.shape == (10, 10) and colors.shape == (10, 10, 3)
        np.testing.assert_array_equal(mask, mask[:, ::-1])
        assert not mask[0].any() or (colors[0][mask[0]] == 0).all()  # the border is black outline


def test_blit_sprite_draws_only_the_mask_and_clips_at_the_edges():
    colors = np.full((2, 2, 3), 200, np.uint8)
    mask = np.array([[True, False], [False, True]])
    img = np.zeros((6, 6, 3), np.uint8)
    art.blit_sprite(img, (colors, mask), 1, 1, 2)
    assert img[1:3, 1:3].min() == 200 and img[3:5, 3:5].min() == 200
    assert img[1:3, 3:5].max() == 0 and img[3:5, 1:3].max() == 0
    edge = np.zeros((6, 6, 3), np.uint8)
    art.blit_sprite(edge, (colors, mask), 4, -2, 2)  # partly outside: only the visible corner lands
    assert edge[0:2, 4:6].max() == 0 and edge.sum() == 0
    art.blit_sprite(edge, (colors, mask), 4, 4, 2)
    assert edge[4:6, 4:6].min() == 200 and edge[:4].sum() == 0
