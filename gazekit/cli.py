"""Command line interface: ``gazekit analyze``, ``gazekit detect``, ``gazekit demo`` and
``gazekit sweep``.

A thin layer over :func:`gazekit.analyze.analyze`, :func:`gazekit.detection.detect_files` and
:func:`gazekit.sweep.sweep_files`.

``gazekit detect RECORDING... --format tobii|csv|... --screen-px W H --screen-cm W H
--distance-cm D [--method NAME] [detector options] --out DIR`` finds fixations and saccades in
human recordings (:mod:`gazekit.detection`); the ``--method`` choices and the detector options
(``--dispersion-deg``, ``--velocity-deg-s``, ...) come from the registry of
:mod:`gazekit.detectors`. The screen geometry is required: it is never guessed.

``gazekit analyze [MODEL...] --human RECORDING... --human-format FORMAT`` adds human
eye-tracking recordings as one more group (see :mod:`gazekit.human`), with the same geometry
and detector options; ``gazekit analyze --human DIR`` analyses the output of ``gazekit
detect`` alone (units physical: ms and degrees).

``gazekit sweep FILE_OR_DIR... --thresholds 2 4 6 8`` prints the gaze statistics of each group
at each fixation threshold (pixels) and writes them to ``--out`` (CSV) and ``--figure``.

Bad input (invalid or unreadable files, bad argument values, an existing output directory,
an output that would replace or delete an input) ends with one line ``gazekit: error: ...`` on
stderr and exit status 2; no output directory or file is left behind. A reader that stops
early (``gazekit sweep ... | head``) ends the command quietly with exit status 1.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gazekit.analyze import AnalysisResult, analyze
from gazekit.argparsing import OneLineParser
from gazekit.checks import positive
from gazekit.compare import UNITS
from gazekit.demo import demo_path
from gazekit.detection import detect_files
from gazekit.detectors import DEFAULT_DETECTOR, detector_parameters, list_detectors, parameter_help
from gazekit.geometry import ScreenGeometry
from gazekit.human import FORMATS
from gazekit.readers import COORDINATES, CSV, SampleFormat
from gazekit.report import closest_summary
from gazekit.schema import ScanpathError
from gazekit.segment import MODES
from gazekit.similarity import DEFAULT_GRID, MEASURES, Simplification, similarity_files
from gazekit.sweep import DEFAULT_THRESHOLDS, sweep_files

__all__ = ["main", "summary_table"]

#: Summary columns printed to stdout (all columns are in summary.csv), with their headers.
_PRINTED = {
    "group": "group",
    "scanpaths": "scanpaths",
    "fixations": "fixations",
    "saccades": "saccades",
    "fixations_per_scanpath": "fix/scanpath",
    "fixation_steps_mean": "fix mean (steps)",
    "fixation_steps_median": "fix median (steps)",
    "fixation_ms_mean": "fix mean (ms)",
    "saccade_px_mean": "sacc mean (px)",
    "saccade_px_median": "sacc median (px)",
    "fixational_share": "fixational share",
}
#: Sweep columns printed by ``gazekit sweep`` (all columns are in its CSV), with headers.
_SWEEP_PRINTED = {
    "group": "group",
    "threshold_px": "threshold (px)",
    "fixations": "fixations",
    "saccades": "saccades",
    "fixations_per_scanpath": "fix/scanpath",
    "fixational_share": "fixational share",
    "fixation_steps_mean": "fix mean (steps)",
    "fixation_steps_median": "fix median (steps)",
    "saccade_px_mean": "sacc mean (px)",
    "saccade_px_median": "sacc median (px)",
}


def _text_table(frame: pd.DataFrame, headers: dict[str, str]) -> str:
    """Columns ``headers`` of ``frame`` as plain text under those headers, floats to 3 decimals."""
    view = frame[list(headers)].rename(columns=headers)
    return view.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def summary_table(summary: pd.DataFrame) -> str:
    """A readable subset of the summary columns as plain text (floats to 3 decimals).

    ``fix mean (ms)`` is shown only when some group has time data.
    """
    return _text_table(summary, {
        c: header for c, header in _PRINTED.items() if c in summary.columns
        and (c != "fixation_ms_mean" or summary[c].notna().any())})


def _positive_float(text: str) -> float:
    try:
        return positive("value", float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None


def _common_options(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument("--out", default=default_out, metavar="DIR",
                        help="output directory, created atomically (must not exist or be empty "
                        "unless --overwrite, and must not be, hold or lie in an input); "
                        f"default {default_out}")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing, non-empty output directory")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="do not show the progress bar (shown on stderr when it is a "
                        "terminal)")


#: Metavar of a detector option by the unit suffix of its parameter name.
_UNIT_METAVARS = {"_deg_s": "DEG/S", "_deg": "DEG", "_ms": "MS"}


def _detector_options() -> dict[str, dict[str, object]]:
    """Every detector parameter of the registry -> {detector: default}."""
    options: dict[str, dict[str, object]] = {}
    for name in list_detectors():
        for param, default in detector_parameters(name).items():
            options.setdefault(param, {})[name] = default
    return options


def _recording_options(group, format_flag: str, method_flag: str) -> None:
    """Format, screen geometry, detector and detector parameter options of recordings."""
    group.add_argument(format_flag, dest="format", choices=FORMATS,
                       help="tobii: Tobii TX300/Titta raw samples; csv: raw samples t (ms), x, "
                       "y (px); bids-events: REMoDNaV events.tsv; fixations: start_x, start_y "
                       "(px), duration (s)")
    group.add_argument("--columns", nargs=3, metavar=("TIME", "X", "Y"),
                       help=f"{format_flag} csv: the time and gaze columns (default t x y)")
    group.add_argument("--time-unit", choices=("us", "ms", "s"),
                       help=f"{format_flag} csv: unit of the time column (default ms)")
    group.add_argument("--coordinates", choices=COORDINATES,
                       help=f"{format_flag} csv: px from the top-left corner (default), "
                       "normalized display fractions, or deg from the screen centre")
    group.add_argument("--screen-px", nargs=2, type=_positive_float, metavar=("W", "H"),
                       help="screen (or stimulus) resolution in pixels (required with "
                       f"{format_flag})")
    group.add_argument("--screen-cm", nargs=2, type=_positive_float, metavar=("W", "H"),
                       help=f"screen (or stimulus) size in cm (required with {format_flag})")
    group.add_argument("--distance-cm", type=_positive_float, metavar="D",
                       help=f"viewing distance in cm (required with {format_flag})")
    group.add_argument(method_flag, dest="method", choices=list_detectors(),
                       help="fixation detector for raw samples; default "
                       f"{DEFAULT_DETECTOR}")
    for param, defaults in _detector_options().items():
        name = next(iter(defaults))
        kind = int if all(isinstance(v, int) and not isinstance(v, bool)
                          for v in defaults.values()) else float
        where = "; ".join(f"{d} default {v:g}" for d, v in defaults.items())
        unit = next((u for suffix, u in _UNIT_METAVARS.items() if param.endswith(suffix)), "N")
        text = re.sub(r":\w+:`~?(?:\w+\.)*(\w+)`", r"\1", parameter_help(name)[param])
        group.add_argument("--" + param.replace("_", "-"), dest=f"param_{param}", type=kind,
                           metavar=unit, help=f"{text.replace('**', '')} ({where})")


def _sample_format(args: argparse.Namespace, format_flag: str) -> SampleFormat | None:
    """The csv column mapping of --columns, --time-unit and --coordinates (None: default)."""
    given = [args.columns, args.time_unit, args.coordinates]
    if all(v is None for v in given):
        return None
    if args.format != "csv":
        raise ValueError(f"--columns, --time-unit and --coordinates describe {format_flag} csv "
                         f"files, not {args.format}")
    time, x, y = args.columns or (CSV.time, *CSV.x, *CSV.y)
    return SampleFormat(time=time, x=(x,), y=(y,), time_unit=args.time_unit or CSV.time_unit,
                        coordinates=args.coordinates or CSV.coordinates)


def _detector_params(args: argparse.Namespace, method_flag: str) -> dict[str, object]:
    """The detector parameters given on the command line; each must belong to the method."""
    method = args.method or DEFAULT_DETECTOR
    given = {p: getattr(args, f"param_{p}") for p in _detector_options()
             if getattr(args, f"param_{p}") is not None}
    own = detector_parameters(method)
    for param in given:
        if param not in own:
            flags = ", ".join("--" + p.replace("_", "-") for p in own)
            raise ValueError(f"--{param.replace('_', '-')} is no option of the {method} "
                             f"detector ({method_flag} {method}; its options: {flags})")
    return given


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="gazekit", description="Segment scanpaths into fixations and saccades and compare "
        "their statistics between groups (models, subjects, ...).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "analyze", help="analyse scanpath files",
        description="Segment scanpath files (Parquet, CSV or TSV; directories are expanded) "
        "and write fixations, saccades, summary, comparisons, figures and report.md.")
    run.add_argument("paths", nargs="*", metavar="PATH",
                     help="scanpath file or directory (none with --human: the human "
                     "recordings alone)")
    run.add_argument("--threshold", type=float, default=6.0, metavar="PX",
                     help="fixation threshold in pixels, finite and >= 0 (0: every glimpse "
                     "its own fixation); default 6, the paper's value")
    run.add_argument("--mode", choices=MODES, default="consecutive",
                     help="fixation rule: distance to the previous glimpse (consecutive, the "
                     "paper's), to the fixation centroid, or to its first glimpse (anchor); "
                     "default consecutive")
    run.add_argument("--group-by", default="model", metavar="COLUMN",
                     help="per-scanpath column defining the groups (default model, or a "
                     "single group 'all' if the input lacks it; another column must be in "
                     "the input)")
    run.add_argument("--units", choices=UNITS,
                     help="units of comparisons and figures: native = glimpse steps and px; "
                     "physical = ms and degrees (needs --px-per-degree, and --ms-per-step "
                     "without time data); relative = over the group median duration and the "
                     "image width; default native, physical for --human alone")
    run.add_argument("--ms-per-step", type=_positive_float, metavar="MS",
                     help="milliseconds per glimpse step: model durations in ms in "
                     "reference_comparison.csv (any --units) and in the comparisons and "
                     "figures with --units physical")
    run.add_argument("--px-per-degree", type=_positive_float, metavar="PX",
                     help="pixels per degree of visual angle of the model image: saccades in "
                     "degrees in reference_comparison.csv (any --units) and in the "
                     "comparisons and figures with --units physical")
    run.add_argument("--bw-method", default="scott", metavar="RULE",
                     help="KDE bandwidth: scott, silverman, or a number in the analysis units "
                     "(steps/px, ms/deg, or relative); default scott")
    human = run.add_argument_group(
        "human recordings", "Add human eye-tracking recordings as a group (with model "
        "scanpaths: needs --units physical or relative). Recording files need --human-format "
        "and the screen geometry; an output directory of gazekit detect needs neither.")
    human.add_argument("--human", nargs="+", metavar="RECORDING",
                       help="recording files or directories (searched recursively), or one "
                       "output directory of gazekit detect")
    _recording_options(human, "--human-format", "--human-detector")
    human.add_argument("--human-label", default="human", metavar="LABEL",
                       help="group label of the recordings (default human)")
    _common_options(run, default_out="out")

    detect = commands.add_parser(
        "detect", help="find fixations and saccades in human recordings",
        description="Detect fixations and saccades in eye-tracking recordings and write "
        "fixations.parquet, saccades.parquet, summary.csv and detection.json to --out "
        "(gazekit analyze --human DIR reads it back).")
    detect.add_argument("paths", nargs="+", metavar="RECORDING",
                        help="recording file or directory (searched recursively)")
    _recording_options(detect, "--format", "--method")
    detect.add_argument("--label", default="human", metavar="LABEL",
                        help="group label written to the tables (default human)")
    _common_options(detect, default_out="events")

    demo = commands.add_parser(
        "demo", help="analyse the shipped synthetic demo scanpaths",
        description="Run the analysis on three clearly synthetic random-walk policies "
        "(saccadic, fixational, mixed) shipped with gazekit.")
    _common_options(demo, default_out="gazekit-demo")

    sweep = commands.add_parser(
        "sweep", help="gaze statistics against the fixation threshold",
        description="Segment scanpath files at several fixation thresholds and print, per "
        "group and threshold, the fixational share, fixation durations (glimpse steps) and "
        "saccade distances (px); no confidence intervals (see gazekit analyze for those).")
    sweep.add_argument("paths", nargs="+", metavar="FILE_OR_DIR",
                       help="scanpath file or directory")
    sweep.add_argument("--thresholds", nargs="+", type=float, default=list(DEFAULT_THRESHOLDS),
                       metavar="PX", help="fixation thresholds in pixels, finite and >= 0 "
                       "(default " + " ".join(f"{t:g}" for t in DEFAULT_THRESHOLDS) + ")")
    sweep.add_argument("--mode", choices=MODES, default="consecutive",
                       help="fixation rule, as for analyze; default consecutive")
    sweep.add_argument("--group-by", default="model", metavar="COLUMN",
                       help="per-scanpath column defining the groups, as for analyze")
    sweep.add_argument("--out", metavar="CSV", help="write the whole table to this CSV file "
                       "(replaced atomically if it exists; not an input file)")
    sweep.add_argument("--figure", metavar="STEM",
                       help="write the figure to STEM.png and STEM.svg (with --out: all "
                       "files or none)")
    _similarity_parser(commands)
    return parser


def _similarity_parser(commands) -> None:
    sim = commands.add_parser(
        "similarity", help="compare scanpaths on the same stimulus (MultiMatch, DTW, edit)",
        description="Pair each scanpath of A with each scanpath of B on the same stimulus (or "
        "every two scanpaths of A) and compute MultiMatch's five similarities, the DTW "
        "distance of the fixation positions (px) and the edit distance of grid-cell strings; "
        "print group means with cluster-bootstrap intervals over stimuli and write pairs.csv "
        "and summary.csv to --out.")
    sim.add_argument("a", metavar="A", help="scanpath file or directory")
    sim.add_argument("b", nargs="?", metavar="B",
                     help="second scanpath file or directory (default: pairs within A)")
    sim.add_argument("--by", default="image_id", metavar="COLUMN",
                     help="column naming the stimulus (default image_id)")
    sim.add_argument("--group-by", metavar="COLUMN",
                     help="per-scanpath column labelling groups (e.g. model); default: the "
                     "input names")
    sim.add_argument("--measures", nargs="+", choices=list(MEASURES), default=list(MEASURES),
                     help="measures to compute (default all)")
    sim.add_argument("--screen-px", nargs=2, type=_positive_float, metavar=("W", "H"),
                     help="image or screen size in px (default: the image_width and "
                     "image_height columns)")
    sim.add_argument("--grid", nargs=2, type=int, default=list(DEFAULT_GRID),
                     metavar=("COLS", "ROWS"), help="grid of the edit distance (default "
                     f"{DEFAULT_GRID[0]} {DEFAULT_GRID[1]} cells over the image)")
    sim.add_argument("--threshold", type=float, metavar="PX",
                     help="merge glimpses closer than this (px, consecutive rule) into "
                     "fixations first; default: every row is a fixation")
    sim.add_argument("--amplitude-px", type=float, default=0.0, metavar="PX",
                     help="MultiMatch simplification: TAmp, saccade length in px (default 0)")
    sim.add_argument("--direction-deg", type=float, default=0.0, metavar="DEG",
                     help="MultiMatch simplification: TDir, angle in degrees (default 0)")
    sim.add_argument("--duration-threshold", type=float, default=0.0, metavar="D",
                     help="MultiMatch simplification: TDur, fixation duration in the unit of "
                     "the durations, ms or glimpse steps (default 0: no simplification)")
    sim.add_argument("--resamples", type=int, default=2000, metavar="N",
                     help="cluster-bootstrap resamples of stimuli (default 2000; 0: none)")
    sim.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    sim.add_argument("--out", metavar="DIR",
                     help="write pairs.csv and summary.csv to this directory, atomically")
    sim.add_argument("--overwrite", action="store_true",
                     help="replace an existing, non-empty output directory")


def _bandwidth(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text  # a rule name, checked by the density code


def _geometry(args: argparse.Namespace) -> ScreenGeometry | None:
    """The recordings' screen from --screen-px, --screen-cm and --distance-cm (all three, or
    none: then the recordings must bring their own, as a gazekit detect output does)."""
    given = {"--screen-px": args.screen_px, "--screen-cm": args.screen_cm,
             "--distance-cm": args.distance_cm}
    if all(v is None for v in given.values()):
        return None
    missing = [flag for flag, v in given.items() if v is None]
    if missing:
        raise ValueError(f"the screen geometry needs all of --screen-px, --screen-cm and "
                         f"--distance-cm (missing {', '.join(missing)}); degrees depend on it")
    return ScreenGeometry(args.screen_px, args.screen_cm, args.distance_cm)


def _run(args: argparse.Namespace) -> AnalysisResult:
    # A progress bar only on a terminal: in pipes and logs it would be noise.
    progress = args.progress and sys.stderr.isatty()
    if args.command == "demo":
        return analyze(demo_path(), args.out, overwrite=args.overwrite, progress=progress)
    human = {}
    if args.human:
        human = {"human": args.human, "human_format": args.format,
                 "geometry": _geometry(args), "human_label": args.human_label,
                 "human_method": args.method,
                 "human_params": _detector_params(args, "--human-detector"),
                 "human_sample_format": _sample_format(args, "--human-format")}
    elif not args.paths:
        raise ValueError("nothing to analyse: give scanpath files, --human recordings, or both")
    return analyze(args.paths, args.out, threshold=args.threshold, mode=args.mode,
                   group_by=args.group_by, units=args.units, ms_per_step=args.ms_per_step,
                   px_per_degree=args.px_per_degree, bw_method=_bandwidth(args.bw_method),
                   overwrite=args.overwrite, progress=progress, **human)


def _analysis_lines(args: argparse.Namespace) -> list[str]:
    """Run ``analyze``/``demo``; return the lines to print."""
    result = _run(args)
    lines = [summary_table(result.summary)]
    if result.human_comparison is not None:
        lines += ["", *closest_summary(result.human_comparison)]
    human_file = "human_comparison.csv, " if result.human_comparison is not None else ""
    return [*lines, "", f"wrote {Path(result.report_path).parent}/ (report.md, summary.csv, "
            f"comparison.csv, {human_file}reference_comparison.csv, fixations.parquet, "
            "saccades.parquet, figures)"]


def _detect_lines(args: argparse.Namespace) -> list[str]:
    """Run ``detect``; return the lines to print."""
    if args.format is None:
        raise ValueError("--format is required: the format of the recordings (one of "
                         f"{', '.join(FORMATS)})")
    geometry = _geometry(args)
    if geometry is None:
        raise ValueError("the screen geometry is required: --screen-px W H, --screen-cm W H "
                         "and --distance-cm D (degrees depend on it)")
    recordings, written = detect_files(
        args.paths, args.out, args.format, geometry=geometry, method=args.method,
        label=args.label, overwrite=args.overwrite,
        sample_format=_sample_format(args, "--format"), **_detector_params(args, "--method"))
    return [recordings.describe(), "", f"wrote {Path(written[0]).parent}/ ("
            + ", ".join(Path(w).name for w in written) + ")"]


def _sweep_lines(args: argparse.Namespace) -> list[str]:
    """Run ``sweep``; return the lines to print."""
    sweep, written = sweep_files(args.paths, args.thresholds, mode=args.mode,
                                 group_by=args.group_by, csv=args.out, figure=args.figure)
    lines = [_text_table(sweep, _SWEEP_PRINTED)]
    if written:
        lines += ["", f"wrote {', '.join(map(str, written))}"]
    return lines


def _similarity_lines(args: argparse.Namespace) -> list[str]:
    """Run ``similarity``; return the lines to print."""
    rule = Simplification(args.amplitude_px, args.direction_deg, args.duration_threshold)
    result = similarity_files(
        args.a, args.b, args.out, overwrite=args.overwrite, n_resamples=args.resamples,
        seed=args.seed, by=args.by, group_by=args.group_by, measures=args.measures,
        screen_px=args.screen_px, grid=tuple(args.grid), simplification=rule,
        threshold=args.threshold)
    pairs, summary = result.pairs, result.summary
    lines = [f"{len(pairs)} pairs on {pairs['stimulus'].nunique()} stimuli; durations in "
             f"{pairs['duration_unit'].iloc[0]}; intervals: {args.resamples} cluster-bootstrap "
             "resamples of stimuli, 95 %", "",
             _text_table(summary, {c: c for c in ("group_a", "group_b", "measure", "n_pairs",
                                                  "mean", "ci_low", "ci_high")})]
    if args.out:
        lines += ["", f"wrote {args.out}/ (pairs.csv, summary.csv)"]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gazekit`` command; returns the exit status (0 success, 2 bad input, 1 when
    stdout is closed before all is printed)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        lines = {"sweep": _sweep_lines, "detect": _detect_lines,
                 "similarity": _similarity_lines}.get(
            args.command, _analysis_lines)(args)
    except (ScanpathError, ValueError, OSError) as exc:
        message = " ".join(str(exc).split())
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2
    try:
        print(*lines, sep="\n")
        sys.stdout.flush()  # here, so that a closed pipe raises in this block
    except BrokenPipeError:
        # The reader has gone (`| head`): point stdout at devnull so that the flush at exit
        # does not raise again, and end quietly (Python docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
