"""Tests of gazekit.geometry: pixel to degree conversions against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazekit.geometry import STUDYFORREST, TOBII_TX300, ScreenGeometry

# A 1000 x 500 px screen of 40 x 20 cm viewed from 50 cm: 0.04 cm per pixel both ways, the
# centre at (500, 250) px. Hand-computed angles (degrees):
#   (750, 250): X = 10 cm          -> atan(10 / 50) = atan(0.2) = 11.309932474020215
#   (1000, 250): X = 20 cm         -> atan(0.4)                 = 21.80140948635181
#   (1000, 500): (X, Y) = (20, 10) -> from the centre atan(sqrt(20^2 + 10^2) / 50)
#                                     = atan(sqrt(0.2))         = 24.094842552110702
SCREEN = ScreenGeometry(resolution_px=(1000, 500), size_cm=(40.0, 20.0), distance_cm=50.0)
ATAN_02, ATAN_04, CORNER = 11.309932474020215, 21.80140948635181, 24.094842552110702


def test_pix2deg_hand_values():
    x, y = SCREEN.pix2deg([500, 750, 1000, 250, 500], [250, 250, 250, 250, 0])
    np.testing.assert_allclose(x, [0.0, ATAN_02, ATAN_04, -ATAN_02, 0.0], rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(y, [0.0, 0.0, 0.0, 0.0, -ATAN_02], rtol=1e-14, atol=1e-14)
    # Not linear: twice as far from the centre is less than twice the angle.
    assert ATAN_04 < 2 * ATAN_02


def test_visual_angle_hand_values():
    got = SCREEN.visual_angle([500, 750, 250, 500], [250, 250, 250, 250],
                              [1000, 1000, 750, 1000], [250, 250, 250, 500])
    np.testing.assert_allclose(got, [ATAN_04, ATAN_04 - ATAN_02, 2 * ATAN_02, CORNER],
                               rtol=1e-13)


def test_visual_angle_matches_law_of_cosines():
    # Independent float64 reference: the angle between the two lines of sight from the dot
    # product of the unit vectors (accurate for angles well above 0).
    rng = np.random.default_rng(3)
    x1, x2 = rng.uniform(-200, 1200, (2, 200))
    y1, y2 = rng.uniform(-100, 600, (2, 200))

    def unit(x, y):
        v = np.stack([(x - 500) * 0.04, (y - 250) * 0.04, np.full_like(x, 50.0)])
        return v / np.linalg.norm(v, axis=0)

    cosine = np.sum(unit(x1, y1) * unit(x2, y2), axis=0)
    want = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    big = want > 0.5
    np.testing.assert_allclose(SCREEN.visual_angle(x1, y1, x2, y2)[big], want[big], rtol=1e-10)


def test_small_angles_keep_precision():
    # 1e-6 px at the centre: the angle is 1e-6 / px_per_degree (arccos would give 0 here).
    got = SCREEN.visual_angle(500.0, 250.0, 500.0 + 1e-6, 250.0)
    assert got == pytest.approx(1e-6 / SCREEN.px_per_degree(), rel=1e-6)


def test_symmetric_and_zero():
    assert SCREEN.visual_angle(123.0, 45.0, 123.0, 45.0) == 0.0
    a = SCREEN.visual_angle(10.0, 20.0, 900.0, 400.0)
    assert a == SCREEN.visual_angle(900.0, 400.0, 10.0, 20.0)


def test_deg2pix_inverts_pix2deg():
    x = np.array([0.0, 123.4, 500.0, 999.0, -50.0])
    y = np.array([0.0, 77.7, 250.0, 499.0, 600.0])
    back = SCREEN.deg2pix(*SCREEN.pix2deg(x, y))
    np.testing.assert_allclose(back, [x, y], atol=1e-9)


def test_nan_stays_nan():
    x, y = SCREEN.pix2deg([np.nan, 500.0], [250.0, np.nan])
    assert np.isnan(x[0]) and np.isnan(y[1]) and x[1] == 0.0 and y[0] == 0.0


def test_px_per_degree_at_centre():
    # One pixel (0.04 cm) at 50 cm subtends 2 atan(0.02 / 50) degrees.
    assert SCREEN.px_per_degree() == pytest.approx(1 / math.degrees(2 * math.atan(0.02 / 50)))
    assert SCREEN.px_per_degree() == pytest.approx(21.8166168134819, rel=1e-12)


def test_shipped_geometries():
    assert TOBII_TX300.cm_per_px == pytest.approx((50.9 / 1920, 28.6 / 1080))
    # REMoDNaV's studyforrest factor 0.0185581232561 deg/px is the angle of the half width
    # over its pixels: atan2(13.25, 63) / 640.
    half = STUDYFORREST.pix2deg(1280.0, 360.0)[0] / 640
    assert half == pytest.approx(0.0185581232561, rel=1e-11)
    assert "1920 x 1080 px, 50.9 x 28.6 cm at 65 cm" in TOBII_TX300.describe()


@pytest.mark.parametrize("kw, message", [
    ({"resolution_px": (0, 500)}, "resolution_px"),
    ({"resolution_px": (1000,)}, "resolution_px"),
    ({"resolution_px": (1920.5, 1080)}, "resolution_px width must be a positive whole number"),
    ({"size_cm": (40.0, float("nan"))}, "size_cm"),
    ({"size_cm": "wide"}, "size_cm"),
    ({"distance_cm": -5.0}, "distance_cm"),
])
def test_bad_geometry(kw, message):
    args = {"resolution_px": (1000, 500), "size_cm": (40.0, 20.0), "distance_cm": 50.0, **kw}
    with pytest.raises(ValueError, match=message):
        ScreenGeometry(**args)


def test_whole_float_resolutions_are_accepted():
    geometry = ScreenGeometry(resolution_px=(1920.0, 1080.0), size_cm=(50.9, 28.6),
                              distance_cm=65.0)
    assert geometry.resolution_px == (1920, 1080)
    assert all(isinstance(v, int) for v in geometry.resolution_px)
