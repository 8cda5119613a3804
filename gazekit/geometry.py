"""Screen geometry: gaze positions in pixels to degrees of visual angle, exactly.

A flat screen of ``W x H`` pixels measuring ``w x h`` cm is viewed from ``D`` cm, with the eye
on the perpendicular through the screen centre. A gaze point ``(x, y)`` in **pixels** (origin at
the top-left corner of the screen, x to the right, y downwards, continuous coordinates, so the
centre is at ``(W / 2, H / 2)``) lies at

    X = (x - W / 2) * w / W,    Y = (y - H / 2) * h / H        (cm from the centre)

and the eye looks along the vector ``v = (X, Y, D)``. Two conversions follow, both exact (no
small-angle or linear approximation):

Position per axis (:meth:`ScreenGeometry.pix2deg`), degrees from the screen centre::

    theta_x = atan2(X, D),    theta_y = atan2(Y, D)

Angle between two gaze points (:meth:`ScreenGeometry.visual_angle`), degrees::

    theta = atan2(|v1 x v2|, v1 . v2)

which is the angle between the two lines of sight; ``atan2`` of the cross and dot products stays
accurate for angles near 0, where ``arccos`` of the normalised dot product loses precision.

A linear conversion with one "pixels per degree" factor is exact only at the centre: at 20
degrees eccentricity a pixel subtends ``cos(20 deg) ** 2 = 0.88`` times the central angle. The
factor at the centre, ``1 / (2 atan(w / (2 W D)))`` pixels per degree, is given by
:meth:`ScreenGeometry.px_per_degree` for reports only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gazekit.checks import positive

__all__ = ["STUDYFORREST", "TOBII_TX300", "ScreenGeometry"]


def _positive_pair(name: str, value, integer: bool = False) -> tuple:
    """``(width, height)``, each checked by :func:`gazekit.checks.positive`."""
    kind = "whole numbers" if integer else "numbers"
    if isinstance(value, str | bytes) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{name} must be two positive {kind} (width, height), got {value!r}")
    return tuple(positive(f"{name} {side}", v, integer=integer)
                 for side, v in zip(("width", "height"), value, strict=True))


@dataclass(frozen=True)
class ScreenGeometry:
    """A flat screen and the viewing distance, for pixel to degree conversions.

    Parameters
    ----------
    resolution_px : (int, int)
        Width and height of the screen (or of the stimulus area that the gaze coordinates refer
        to) in **pixels**.
    size_cm : (float, float)
        Physical width and height of that area in **cm**.
    distance_cm : float
        Distance from the eye to the screen centre in **cm**.

    Raises
    ------
    ValueError
        If a value is missing, not positive or not finite.

    Examples
    --------
    >>> screen = ScreenGeometry(resolution_px=(1000, 500), size_cm=(50.0, 25.0), distance_cm=50.0)
    >>> screen.cm_per_px
    (0.05, 0.05)
    """

    resolution_px: tuple[int, int]
    size_cm: tuple[float, float]
    distance_cm: float

    def __post_init__(self) -> None:
        # frozen: assign the checked, normalised values through object.__setattr__
        object.__setattr__(self, "resolution_px",
                           _positive_pair("resolution_px", self.resolution_px, integer=True))
        object.__setattr__(self, "size_cm", _positive_pair("size_cm", self.size_cm))
        object.__setattr__(self, "distance_cm", positive("distance_cm", self.distance_cm))

    @property
    def cm_per_px(self) -> tuple[float, float]:
        """Pixel pitch (horizontal, vertical) in **cm per pixel**.

        >>> TOBII_TX300.cm_per_px == (50.9 / 1920, 28.6 / 1080)
        True
        """
        return (self.size_cm[0] / self.resolution_px[0], self.size_cm[1] / self.resolution_px[1])

    def _centred_cm(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Offsets from the screen centre in cm of points given in pixels."""
        (w, h), (sx, sy) = self.resolution_px, self.cm_per_px
        return ((np.asarray(x, dtype=np.float64) - w / 2) * sx,
                (np.asarray(y, dtype=np.float64) - h / 2) * sy)

    def pix2deg(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Gaze position in **degrees** from the screen centre, per axis.

        Parameters
        ----------
        x, y : array-like
            Gaze coordinates in **pixels** (origin top-left, y downwards); NaN stays NaN.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            ``atan2(X, D)`` and ``atan2(Y, D)`` in degrees (y positive below the centre).

        Examples
        --------
        The right edge of a 50 cm wide screen seen from 50 cm lies ``atan(25 / 50)`` to the
        right of the centre:

        >>> screen = ScreenGeometry((1000, 500), (50.0, 25.0), 50.0)
        >>> x_deg, y_deg = screen.pix2deg([500, 1000], [250, 250])
        >>> x_deg.round(3).tolist(), y_deg.tolist()
        ([0.0, 26.565], [0.0, 0.0])
        """
        cx, cy = self._centred_cm(x, y)
        return np.degrees(np.arctan2(cx, self.distance_cm)), \
            np.degrees(np.arctan2(cy, self.distance_cm))

    def deg2pix(self, theta_x, theta_y) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`pix2deg`: per-axis **degrees** back to **pixels**.

        >>> screen = ScreenGeometry((1000, 500), (50.0, 25.0), 50.0)
        >>> x, y = screen.deg2pix(*screen.pix2deg([100.0, 900.0], [20.0, 480.0]))
        >>> x.round(9).tolist(), y.round(9).tolist()
        ([100.0, 900.0], [20.0, 480.0])
        """
        (w, h), (sx, sy) = self.resolution_px, self.cm_per_px
        d = self.distance_cm
        return (w / 2 + d * np.tan(np.radians(np.asarray(theta_x, dtype=np.float64))) / sx,
                h / 2 + d * np.tan(np.radians(np.asarray(theta_y, dtype=np.float64))) / sy)

    def visual_angle(self, x1, y1, x2, y2) -> np.ndarray:
        """Angle in **degrees** between the lines of sight to two gaze points.

        Parameters
        ----------
        x1, y1, x2, y2 : array-like
            The two points in **pixels** (broadcast against each other).

        Returns
        -------
        numpy.ndarray
            ``atan2(|v1 x v2|, v1 . v2)`` in degrees, with ``v = (X, Y, D)`` (module docstring).

        Examples
        --------
        From the centre to the right edge, and between the two edges (not twice the first:
        the lines of sight are 26.57 deg apart from the centre but the edges 53.13 deg):

        >>> screen = ScreenGeometry((1000, 500), (50.0, 25.0), 50.0)
        >>> screen.visual_angle([500, 0], [250, 250], [1000, 1000], [250, 250]).round(3).tolist()
        [26.565, 53.13]
        """
        ax, ay = self._centred_cm(x1, y1)
        bx, by = self._centred_cm(x2, y2)
        d = self.distance_cm
        # v1 x v2 for v = (X, Y, D)
        cross = np.sqrt((ay * d - d * by) ** 2 + (d * bx - ax * d) ** 2 + (ax * by - ay * bx) ** 2)
        dot = ax * bx + ay * by + d * d
        return np.degrees(np.arctan2(cross, dot))

    def px_per_degree(self) -> float:
        """Horizontal **pixels per degree** at the screen centre (exact there only).

        >>> round(TOBII_TX300.px_per_degree(), 2)
        42.79
        """
        return 1.0 / math.degrees(2 * math.atan(self.cm_per_px[0] / (2 * self.distance_cm)))

    def describe(self) -> str:
        """One line for reports: resolution, size, distance and px/deg at the centre.

        >>> TOBII_TX300.describe()
        '1920 x 1080 px, 50.9 x 28.6 cm at 65 cm (42.79 px/deg at the centre)'
        """
        (w, h), (cw, ch) = self.resolution_px, self.size_cm
        return (f"{w} x {h} px, {cw:g} x {ch:g} cm at {self.distance_cm:g} cm "
                f"({self.px_per_degree():.2f} px/deg at the centre)")


#: Tobii TX300 set-up of the I2MC example data (Hessels et al. 2017), as documented with it.
TOBII_TX300 = ScreenGeometry(resolution_px=(1920, 1080), size_cm=(50.9, 28.6), distance_cm=65.0)

#: studyforrest in-scanner movie set-up: 1280 px over 26.5 cm at 63 cm (square pixels), the
#: values from which REMoDNaV's 0.01856 deg/px for these recordings is computed (Dar, Wagner &
#: Hanke 2021, Behav. Res. Methods 53:399-414).
STUDYFORREST = ScreenGeometry(resolution_px=(1280, 720), size_cm=(26.5, 26.5 * 720 / 1280),
                              distance_cm=63.0)
