import pytest
import torch

from zoo import data as zdata
from zoo.checkpoint import CheckpointError, load_model, save_checkpoint
from zoo.evaluate import display_name, evaluate, format_result
from zoo.machine import resolve_device

NORM = {"mean": 0.45, "std": 0.2}


def direct_accuracy(model, glimpses):
    """Accuracy (%) on the synthetic test split, by a plain forward pass in float64 inputs."""
    images, labels = zdata.load_dataset("synthetic", "test")
    x = ((images.double() / 255.0 - NORM["mean"]) / NORM["std"]).float().unsqueeze(1)
    with torch.no_grad():
        logits = model(x, sample=False).logits if glimpses else model(x)
    return 100.0 * (logits.argmax(1) == labels).double().mean().item(), len(labels)


@pytest.mark.parametrize(("name", "kwargs", "label"),
                         [("ram", {"glimpses": 2}, "RAM-2"), ("cnn", {}, "CNN")])
def test_evaluate_accuracy_and_parameters(make_checkpoint, tmp_path, name, kwargs, label):
    path, model = make_checkpoint(tmp_path / "m.pt", name, normalization=NORM, epoch=3,
                                  **kwargs)
    result = evaluate(path, device="cpu", batch_size=128, repeats=3, latency_images=4)
    expected_acc, n = direct_accuracy(model, bool(kwargs))
    assert result["images"] == n
    assert result["accuracy_pct"] == pytest.approx(expected_acc, abs=1e-9)
    assert result["params"] == sum(p.numel() for p in model.parameters())
    assert result["params_m"] == pytest.approx(result["params"] / 1e6)
    assert result["model"] == label and result["arch"] == name and result["epoch"] == 3
    assert result["latency_ms_mean"] > 0 and result["latency_ms_sd"] >= 0
    assert result["throughput_ips"] > 0
    assert result["device"] == "cpu" and result["torch_threads"] == torch.get_num_threads()
    text = format_result(result)
    for unit in ("%", "M (", "ms/image", "images/s"):
        assert unit in text


def test_single_latency_run_has_zero_sd(make_checkpoint, tmp_path):
    path, _ = make_checkpoint(tmp_path / "m.pt", "cnn")
    result = evaluate(path, device="cpu", repeats=1, latency_images=2)
    assert result["latency_ms_sd"] == 0.0 and result["latency_repeats"] == 1


def test_load_model_restores_weights_in_eval_mode(make_checkpoint, tmp_path):
    path, model = make_checkpoint(tmp_path / "m.pt", "mram_single", glimpses=3)
    loaded, state = load_model(path)
    assert not loaded.training and loaded.name == "mram_single"
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    assert state["dataset"] == "synthetic"


def test_load_model_rejects_unknown_model_and_wrong_weights(make_checkpoint, tmp_path):
    path, model = make_checkpoint(tmp_path / "m.pt", "ram", glimpses=2)
    state = torch.load(path, weights_only=True)
    save_checkpoint({**state, "model": "nonexistent"}, tmp_path / "unknown.pt")
    with pytest.raises(CheckpointError, match="unknown.pt.*nonexistent"):
        load_model(tmp_path / "unknown.pt")
    save_checkpoint({**state, "model": "mram"}, tmp_path / "wrong.pt")
    with pytest.raises(CheckpointError, match="wrong.pt: weights do not fit model 'mram'"):
        load_model(tmp_path / "wrong.pt")


def test_evaluate_rejects_bad_arguments_and_checkpoints(make_checkpoint, tmp_path):
    path, _ = make_checkpoint(tmp_path / "m.pt", "cnn")
    with pytest.raises(ValueError, match="repeats"):
        evaluate(path, device="cpu", repeats=0)
    state = torch.load(path, weights_only=True)
    del state["normalization"]
    save_checkpoint(state, tmp_path / "nonorm.pt")
    with pytest.raises(CheckpointError, match="normalization"):
        evaluate(tmp_path / "nonorm.pt", device="cpu")


def test_display_name_and_device():
    assert display_name("mram", 12) == "MRAM-12"
    assert display_name("dram_nocontext", 7) == "DRAM-nocontext-7"
    assert display_name("ram", 12, 2) == "RAM-12-2scales"
    assert display_name("cnn") == "CNN"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
