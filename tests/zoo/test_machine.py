import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import zoo.machine
from zoo.machine import cpu_name, resolve_device


def test_cpu_name_is_the_first_model_name_of_cpuinfo():
    cpuinfo = Path("/proc/cpuinfo")
    text = cpuinfo.read_text() if cpuinfo.is_file() else ""
    found = re.search(r"^model name\s*:(.*)$", text, flags=re.MULTILINE)
    expected = found.group(1).strip() if found else platform.processor() or platform.machine()
    assert cpu_name() == expected and cpu_name()


def test_machine_module_runs_without_torch():
    # Loaded on its own (not through the zoo package, which registers the torch models).
    code = ("import importlib.util, sys\n"
            "spec = importlib.util.spec_from_file_location('machine', sys.argv[1])\n"
            "module = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(module)\n"
            "assert module.cpu_name() and 'torch' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code, zoo.machine.__file__], check=True)


def test_resolve_device():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be auto, cpu, cuda or cuda:N, got 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'cuda:1' requested but CUDA is not available"):
            resolve_device("cuda:1")
