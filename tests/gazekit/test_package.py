"""Packaging: gazekit imports fast and without torch; the zoo says which extra it needs."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import gazekit

#: Run before the code under test: ``import torch`` fails as on a machine without torch
#: (a finder, not ``sys.modules['torch'] = None``, which libraries probing for torch trip on).
NO_TORCH = """import sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.modules.pop("torch", None)
sys.meta_path.insert(0, NoTorch())
"""


def _python(code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, **kwargs)


def test_import_gazekit_defers_scipy_pandas_and_matplotlib():
    out = _python("import sys, gazekit; heavy = ('scipy', 'pandas', 'matplotlib', 'torch'); "
                  "print([m for m in heavy if m in sys.modules]); "
                  "gazekit.analyze; print('matplotlib' in sys.modules)")
    assert out.returncode == 0, out.stderr
    # The analysis is usable but the figures' matplotlib waits for the first figure.
    assert out.stdout.split("\n")[:2] == ["[]", "False"]


def test_public_names_resolve():
    for name in gazekit.__all__:
        assert getattr(gazekit, name) is not None
    assert set(gazekit.__all__) <= set(dir(gazekit))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gazekit.nope  # noqa: B018


def test_submodule_imports_keep_the_functions_of_the_same_name():
    out = _python("import gazekit.cli, gazekit; print(callable(gazekit.analyze), "
                  "callable(gazekit.segment))")
    assert out.stdout.split() == ["True", "True"], out.stderr


def test_every_gazekit_module_imports_without_torch():
    code = NO_TORCH + (
        "import importlib, pkgutil, gazekit; "
        "names = [m.name for m in pkgutil.walk_packages(gazekit.__path__, 'gazekit.')]; "
        "[importlib.import_module(n) for n in names]; print(len(names))")
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 10


def test_gazekit_cli_runs_without_torch(tmp_path):
    out = _python(NO_TORCH + "from gazekit.cli import main; "
                  f"raise SystemExit(main(['demo', '--out', {str(tmp_path / 'o')!r}]))")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "o" / "report.md").is_file()


def test_zoo_without_torch_names_the_extra():
    out = _python(NO_TORCH + "import zoo")
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: zoo needs PyTorch")
    assert "pip install 'gazekit[zoo]'" in last


def _zoo_entry_point() -> tuple[str, str]:
    """Module and function of the ``zoo`` console script, as pyproject.toml declares it."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    with (Path(__file__).resolve().parents[2] / "pyproject.toml").open("rb") as f:
        module, _, function = tomllib.load(f)["project"]["scripts"]["zoo"].partition(":")
    return module, function


def test_zoo_command_without_torch_says_so_in_one_line():
    module, function = _zoo_entry_point()
    out = _python(NO_TORCH + f"from {module} import {function} as main; "
                  "raise SystemExit(main(['list']))")
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and out.stdout == ""
    assert out.stderr.startswith("zoo: error: zoo needs PyTorch")
    assert "pip install 'gazekit[zoo]'" in out.stderr


def test_zoo_command_with_torch_is_zoo_cli(capsys):
    from zoo.cli import main as zoo_cli

    module, function = _zoo_entry_point()
    script = getattr(importlib.import_module(module), function)
    assert script(["list"]) == 0
    listed = capsys.readouterr().out
    assert zoo_cli(["list"]) == 0
    assert listed == capsys.readouterr().out and "mram" in listed.split()
