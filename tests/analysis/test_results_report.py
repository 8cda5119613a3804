"""Tests of analysis.results_report's accuracy section: per-T rows, the criterion, the
interval of the paired accuracy difference and the provisional runs, rendered from a claims
table made by :func:`analysis.claims.accuracy_claims`."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from analysis import claims
from analysis.results_report import _accuracy_markdown, _provisional


def test_accuracy_section_states_t_criterion_interval_and_provisional_runs(tmp_path):
    ids = np.arange(30)
    rng = np.random.default_rng(1)
    exports = {}
    for label, p in (("MRAM-7", 0.9), ("RAM-7", 0.5), ("MRAM-12", 0.8), ("DRAM-12", 0.8)):
        path = tmp_path / f"{label}.parquet"
        pd.DataFrame({"image_id": ids, "correct": rng.random(30) < p}).to_parquet(path)
        exports[label] = path
    table = claims.accuracy_claims(exports, n_resamples=100)
    table.to_csv(tmp_path / "t2_accuracy_claims.csv", index=False)
    settings = SimpleNamespace(results=tmp_path, stem="t2")
    runs = pd.DataFrame({"model": ["MRAM-7", "RAM-7", "DRAM-12", "DRAM-7"],
                         "state": ["finished", "stopped early", "still training; pid 1",
                                   "still training; pid 2"],
                         "evaluated_epoch": [300, 120, 40, 12],
                         "exported_epoch": [300, 120, 40, 12]})
    text = "\n".join(_accuracy_markdown(settings, runs))
    assert f"Criterion: {claims.accuracy_criterion(100)}." in text
    for row in table.itertuples():
        interval = (f"{row.difference_pct:+.2f} [{row.difference_ci_low:+.2f}, "
                    f"{row.difference_ci_high:+.2f}]")
        assert f"| {row.glimpses} | {row.mram} vs {row.rival} |" in text
        assert f"| {interval} |" in text and f"| {row.verdict} |" in text
    # Only the unfinished run among the compared models is named provisional.
    assert "**Provisional**" in text and "DRAM-12 (weights of epoch 40" in text
    assert "DRAM-7" not in text
    assert claims.MCNEMAR_NOTE in text
    # A file from before the per-T rule asks for the analyze stage instead of failing.
    table.drop(columns=["glimpses"]).to_csv(tmp_path / "t2_accuracy_claims.csv", index=False)
    assert "re-run the analyze stage" in _accuracy_markdown(settings, runs)[0]


def test_a_run_without_an_export_is_not_called_provisional():
    runs = pd.DataFrame({"model": ["DRAM-7", "DRAM-nocontext-12"],
                         "state": ["still training: epoch 9 of 300 (best 8)",
                                   "still training: epoch 3 of 300 (best 3)"],
                         "exported_epoch": pd.array([8, pd.NA], dtype="Int64")})
    text = "\n".join(_provisional(runs))
    assert "DRAM-7 (weights of epoch 8; still training" in text
    assert "DRAM-nocontext-12" not in text  # it has no scanpaths, so it is in no claim
    assert _provisional(runs.iloc[1:]) == []
