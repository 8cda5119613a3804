"""Reference values of human eye movements.

Mean fixation durations and mean saccade sizes for four tasks, as listed in Table 1 of

    Rayner, K. (1998). Eye movements in reading and information processing: 20 years of
    research. *Psychological Bulletin*, 124(3), 372-422. https://doi.org/10.1037/0033-2909.124.3.372

The values are typical means across studies, not the result of one experiment. For reading,
the saccade size is about 8-9 letter spaces (silent) and 6-7 letter spaces (oral), which the
table gives as about 2 and 1.5 degrees of visual angle.
"""

from __future__ import annotations

import pandas as pd

_SOURCE = "Rayner (1998), Psychol. Bull. 124(3):372-422, Table 1"


def human_reference() -> pd.DataFrame:
    """Typical human fixation durations and saccade sizes per task (Rayner, 1998, Table 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``task`` (str), ``mean_fixation_ms`` (mean fixation duration,
        **milliseconds**), ``mean_saccade_deg`` (mean saccade size, **degrees of visual
        angle**) and ``source`` (citation); one row per task: silent reading, oral reading,
        scene perception, visual search.

    Examples
    --------
    >>> print(human_reference()[["task", "mean_fixation_ms", "mean_saccade_deg"]].to_string())
                   task  mean_fixation_ms  mean_saccade_deg
    0    silent reading             225.0               2.0
    1      oral reading             275.0               1.5
    2  scene perception             330.0               4.0
    3     visual search             275.0               3.0
    """
    return pd.DataFrame({
        "task": ["silent reading", "oral reading", "scene perception", "visual search"],
        "mean_fixation_ms": [225.0, 275.0, 330.0, 275.0],
        "mean_saccade_deg": [2.0, 1.5, 4.0, 3.0],
        "source": [_SOURCE] * 4,
    })
