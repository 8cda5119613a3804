"""Readers of human eye-tracking recordings: raw gaze samples, BIDS events, fixation lists.

Three kinds of input are read:

raw gaze samples (:func:`read_samples`)
    CSV/TSV, one row per sample, described by a :class:`SampleFormat` (time column and unit,
    x/y columns of one or two eyes in pixels or display fractions, validity codes, missing
    values). :data:`TOBII` reads the Tobii TX300 / Titta-style export of the I2MC example data
    (time in microseconds, normalised coordinates, validity 0 = valid, 4 = lost); :data:`CSV`
    reads plain ``t`` (ms), ``x``, ``y`` (px) columns. Fixations are then found with I-DT or
    I-VT (:func:`detect_fixations`, :mod:`gazekit.detectors`).
BIDS-style event files (:func:`read_bids_events`)
    ``events.tsv`` as written by REMoDNaV: ``onset``, ``duration`` (s), ``label``
    (``FIXA`` fixation, ``SACC`` saccade, ...), ``start_x`` ... ``end_y`` (px), ``amp``
    (degrees).
plain fixation lists (:func:`read_fixation_list`)
    ``start_x``, ``start_y`` (px) and ``duration`` (s) per fixation.

Each becomes a **fixation list** (see :mod:`gazekit.human`, which turns fixation lists into
the shared fixations and saccades tables and loads sets of files).

Bad input raises :class:`gazekit.schema.ScanpathError` naming the file and line: missing
columns, unparseable rows (how many, which lines), duplicated or decreasing timestamps,
irregular sampling, a trial without valid samples.

The readers live in one module per kind of input, re-exported here: :mod:`gazekit.gaze_samples`,
:mod:`gazekit.bids_events` and :mod:`gazekit.fixation_lists`, with the file plumbing they share
in :mod:`gazekit.recording_files`.
"""

from __future__ import annotations

from gazekit.bids_events import EVENT_GAP_MS as EVENT_GAP_MS  # re-exported
from gazekit.bids_events import bids_fixations, read_bids_events
from gazekit.fixation_lists import read_fixation_list
from gazekit.gaze_samples import (
    COORDINATES,
    CSV,
    TOBII,
    SampleFormat,
    detect_fixations,
    read_samples,
)
from gazekit.gaze_samples import IRREGULAR_TOLERANCE as IRREGULAR_TOLERANCE  # re-exported
from gazekit.recording_files import recording_names

__all__ = [
    "COORDINATES",
    "CSV",
    "TOBII",
    "SampleFormat",
    "bids_fixations",
    "detect_fixations",
    "read_bids_events",
    "read_fixation_list",
    "read_samples",
    "recording_names",
]
