import copy

import pytest
import torch
from torch._dynamo.utils import counters

import zoo
from zoo import data as zdata
from zoo.checkpoint import CheckpointError, load_model, save_checkpoint
from zoo.evaluate import display_name, evaluate, format_result, logits_fn
from zoo.machine import resolve_device
from zoo.sensor import extract_glimpses, patch_origin

NORM = {"mean": 0.45, "std": 0.2}


def direct_accuracy(model, glimpses, dtype=torch.float32):
    """Accuracy (%) on the synthetic test split, by a plain forward pass of ``model`` converted
    to ``dtype``, on inputs normalised in float64."""
    images, labels = zdata.load_dataset("synthetic", "test")
    x = ((images.double() / 255.0 - NORM["mean"]) / NORM["std"]).float().unsqueeze(1)
    model, x = copy.deepcopy(model).to(dtype), x.to(dtype)
    with torch.no_grad():
        logits = model(x, sample=False).logits if glimpses else model(x)
    return 100.0 * (logits.argmax(1) == labels).double().mean().item(), len(labels)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize(("name", "kwargs", "label"),
                         [("ram", {"glimpses": 2}, "RAM-2"), ("cnn", {}, "CNN")])
def test_evaluate_accuracy_and_parameters(make_checkpoint, tmp_path, name, kwargs, label,
                                          dtype):
    path, model = make_checkpoint(tmp_path / "m.pt", name, normalization=NORM, epoch=3,
                                  **kwargs)
    result = evaluate(path, device="cpu", batch_size=128, repeats=3, latency_images=4,
                      dtype=dtype)
    expected_acc, n = direct_accuracy(model, bool(kwargs), getattr(torch, dtype))
    assert result["images"] == n
    assert result["accuracy_pct"] == pytest.approx(expected_acc, abs=1e-9)
    assert result["params"] == sum(p.numel() for p in model.parameters())
    assert result["params_m"] == pytest.approx(result["params"] / 1e6)
    assert result["model"] == label and result["arch"] == name and result["epoch"] == 3
    assert result["latency_ms_mean"] > 0 and result["latency_ms_sd"] >= 0
    assert result["throughput_ips"] > 0
    assert result["device"] == "cpu" and result["torch_threads"] == torch.get_num_threads()
    assert result["dtype"] == dtype and not result["compiled"]
    text = format_result(result)
    for unit in ("%", "M (", "ms/image", "images/s", dtype):
        assert unit in text


@pytest.mark.parametrize("name", ["ram", "dram", "mram"])
def test_bfloat16_inference_matches_float32_within_its_rounding(name):
    # bfloat16 keeps 8 significant bits (relative rounding 2**-8 = 0.4 %). Stated tolerances:
    # policy means within 0.01 (0.14 px on 28 px); where every glimpse lands on the same
    # pixels as in float32 (at least 90 % of the images), logits within 0.004 (2-4 % of
    # these random models' logit range). A location within 0.14 px of a pixel boundary may
    # move its patch by a pixel, after which the scanpath legitimately diverges.
    torch.manual_seed(1)
    model = zoo.create_model(name, glimpses=3, hidden=32, num_classes=4).eval()
    low = copy.deepcopy(model)
    images = torch.randn(64, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected = model(images, sample=False)
        logits = logits_fn(low, dtype="bfloat16")(images)  # converts `low` in place
        got = low(images.bfloat16(), sample=False)
    assert logits.dtype == torch.bfloat16 and next(low.parameters()).dtype == torch.bfloat16
    torch.testing.assert_close(logits, got.logits, rtol=0, atol=0)
    torch.testing.assert_close(got.means.float(), expected.means, rtol=0, atol=0.01)
    same = (patch_origin(got.locations, 28, 28, 8)
            == patch_origin(expected.locations, 28, 28, 8)).all(-1).all(-1)
    assert same.float().mean() >= 0.9
    torch.testing.assert_close(logits.float()[same], expected.logits[same], rtol=0, atol=4e-3)


def test_bfloat16_locations_read_the_patches_of_their_float32_values():
    # The sensor places patches with float32 arithmetic even for bfloat16 locations (in
    # bfloat16, (x + 1) / 2 * 28 moves about 8 % of the patches by a pixel).
    g = torch.Generator().manual_seed(0)
    images = torch.randn(2000, 1, 28, 28, generator=g).bfloat16()
    locations = (torch.rand(2000, 2, generator=g) * 2.2 - 1.1).bfloat16()
    got = extract_glimpses(images, locations, size=8, scales=2)
    expected = extract_glimpses(images.float(), locations.float(), size=8, scales=2)
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), expected, rtol=0.01, atol=0)


def test_compiled_inference_at_batch_1_matches_eager():
    # On the CPU, batch-1 products compile into fused reductions (CPU_INFERENCE_OPTIONS):
    # only the order of additions changes.
    torch.manual_seed(0)
    model = zoo.create_model("mram", glimpses=2, hidden=16, num_classes=4).eval()
    images = torch.randn(3, 1, 28, 28)
    before = counters["inductor"]["decompose_addmm"]
    forward = logits_fn(model, compile=True)
    with torch.inference_mode():
        for x in images.split(1):
            torch.testing.assert_close(forward(x), model(x, sample=False).logits,
                                       rtol=1e-5, atol=1e-6)
    assert counters["inductor"]["decompose_addmm"] > before


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
    with pytest.raises(ValueError, match="dtype.*float16"):
        evaluate(path, device="cpu", dtype="float16")
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
