import numpy as np
import pandas as pd

from gazekit.report import markdown_table


def test_markdown_table():
    df = pd.DataFrame({"a": ["x|y", "z"], "b": [1.234567, np.nan], "c": [3, 4]})
    assert markdown_table(df) == (
        "| a | b | c |\n|---|---|---|\n| x\\|y | 1.235 | 3 |\n| z |  | 4 |")
