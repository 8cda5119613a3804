import json

import pandas as pd
import pytest

from zoo.cli import main
from zoo.plot import read_exports


def one_line_error(capsys, rc, *fragments):
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("zoo: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_list_prints_registered_names(capsys):
    assert main(["list"]) == 0
    names = capsys.readouterr().out.split()
    assert {"cnn", "ram", "dram", "mram", "dram_nocontext", "dram_hybrid", "mram_single"} <= \
        set(names)


def test_train_delegates_to_zoo_train(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0 and "--glimpses" in capsys.readouterr().out
    assert main(["train", "--dataset", "synthetic"]) == 2  # zoo.train's own check
    assert "--model" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["evaluate", "export"])
def test_missing_checkpoint(capsys, tmp_path, command):
    out = tmp_path / "out.parquet"
    argv = [command, str(tmp_path / "nope.pt")] + (["--out", str(out)] if command == "export"
                                                   else ["--json", str(tmp_path / "r.json")])
    one_line_error(capsys, main(argv), "nope.pt", "no such checkpoint")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["evaluate", "export"])
def test_corrupt_checkpoint(capsys, tmp_path, command):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00not a checkpoint" * 10)
    out = tmp_path / "out.parquet"
    argv = [command, str(bad)] + (["--out", str(out)] if command == "export" else [])
    one_line_error(capsys, main(argv), "bad.pt", "not a readable checkpoint")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pt"]


def test_missing_data(make_checkpoint, capsys, tmp_path):
    ckpt, _ = make_checkpoint(tmp_path / "m.pt", "ram", dataset="fashion-mnist", glimpses=2)
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out.parquet"
    rc = main(["export", str(ckpt), "--out", str(out), "--data-dir", str(empty)])
    one_line_error(capsys, rc, str(empty))
    assert not out.exists()


def test_export_evaluate_and_plot_end_to_end(make_checkpoint, capsys, tmp_path):
    exports = []
    for name in ("mram", "ram"):
        ckpt, _ = make_checkpoint(tmp_path / f"{name}.pt", name, glimpses=3)
        out = tmp_path / f"{name}.parquet"
        assert main(["export", str(ckpt), "--out", str(out), "--limit", "20",
                     "--device", "cpu"]) == 0
        exports.append(str(out))
    sampled = str(tmp_path / "mram-sampled.parquet")
    assert main(["export", str(tmp_path / "mram.pt"), "--out", sampled, "--limit", "20",
                 "--stochastic", "--seed", "3"]) == 0
    exports.insert(1, sampled)
    assert len(pd.read_parquet(exports[0])) == 20 * 3
    assert read_exports(exports)["row"].unique().tolist() == ["MRAM-3", "MRAM-3-sampled",
                                                              "RAM-3"]
    both = read_exports([exports[0], exports[0]])["row"].unique().tolist()
    assert both == ["MRAM-3 [mram]"]  # same label from two files: file stems tell them apart

    report = tmp_path / "eval.json"
    assert main(["evaluate", str(tmp_path / "ram.pt"), "--device", "cpu", "--repeats", "2",
                 "--latency-images", "2", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "ms/image" in out and "images/s" in out and "RAM-3" in out
    assert json.loads(report.read_text())["images"] == 500

    fig = tmp_path / "figs" / "fig2"
    assert main(["plot", *exports, "--out", str(fig), "--images", "3",
                 "--class-names", "a", "b", "c", "d"]) == 0
    for ext in ("png", "svg"):
        assert (tmp_path / "figs" / f"fig2.{ext}").stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["fig2.png", "fig2.svg"]
    capsys.readouterr()
    rc = main(["plot", *exports, "--out", str(tmp_path / "g"), "--class-names", "a"])
    one_line_error(capsys, rc, "class_names")
    for bad, fragment in ((["--image-ids", "1", "1"], "distinct ids"),
                          (["--images", "0"], "n_images"), (["--images", "-1"], "n_images")):
        one_line_error(capsys, main(["plot", *exports, "--out", str(tmp_path / "g"), *bad]),
                       fragment)
    assert not (tmp_path / "g.png").exists()
    csv = tmp_path / "x.csv"
    rc = main(["export", str(tmp_path / "ram.pt"), "--out", str(csv), "--limit", "2"])
    one_line_error(capsys, rc, ".parquet", "x.csv")
    assert not csv.exists()


def test_evaluate_passes_precision_and_compile_to_the_api(make_checkpoint, capsys, tmp_path,
                                                         monkeypatch):
    ckpt, _ = make_checkpoint(tmp_path / "ram.pt", "ram", glimpses=2)
    report = tmp_path / "eval.json"
    assert main(["evaluate", str(ckpt), "--device", "cpu", "--repeats", "1",
                 "--latency-images", "1", "--dtype", "bfloat16", "--json", str(report)]) == 0
    assert "bfloat16" in capsys.readouterr().out
    result = json.loads(report.read_text())
    assert result["dtype"] == "bfloat16" and result["compiled"] is False
    seen = {}

    def fake_evaluate(checkpoint, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr("zoo.cli.evaluate", fake_evaluate)
    one_line_error(capsys, main(["evaluate", str(ckpt), "--compile"]), "stop here")
    assert seen["compile"] is True and seen["dtype"] == "float32"
    with pytest.raises(SystemExit):
        main(["evaluate", str(ckpt), "--dtype", "float16"])


def test_plot_of_unreadable_export_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    one_line_error(capsys, main(["plot", str(bad), "--out", str(tmp_path / "f")]), "bad.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet"]
