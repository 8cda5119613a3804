import math

import numpy as np
import pytest

from gazekit.checks import check_positive, positive


@pytest.mark.parametrize("value", [1, 0.5, 1e300, np.float32(2.5), np.int64(3)])
def test_positive_scalars_pass_as_float(value):
    out = positive("x", value)
    assert isinstance(out, float) and out == float(value)


@pytest.mark.parametrize("value", [0, -1.0, math.inf, math.nan, True, "6", None, 1 + 2j])
def test_non_positive_or_non_numbers_are_refused_in_one_line(value):
    with pytest.raises(ValueError, match=r"^ms_per_step must be a positive finite number, got "
                       + repr(value).replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")
                       + "$"):
        positive("ms_per_step", value)


def test_integer_rule():
    assert positive("px", 1920.0, integer=True) == 1920
    assert isinstance(positive("px", 1920.0, integer=True), int)
    with pytest.raises(ValueError, match="px must be a positive whole number, got 1920.5"):
        positive("px", 1920.5, integer=True)


def test_arrays_name_the_first_bad_position():
    np.testing.assert_array_equal(positive("scale", [1, 2.5]), [1.0, 2.5])
    with pytest.raises(ValueError, match=r"scale must be a positive finite number, got -2 at "
                       r"position 1"):
        positive("scale", np.array([1.0, -2.0, 0.0]))
    with pytest.raises(ValueError, match="empty array"):
        positive("scale", [])


def test_check_positive_names_the_first_bad_keyword():
    check_positive(a=1.0, b=2)
    with pytest.raises(ValueError, match="^b must be a positive finite number, got 0$"):
        check_positive(a=1.0, b=0, c=-1)
