import math

import pytest
import torch
import torch.nn.functional as F

import zoo
from zoo.models import DRAM, MRAM, RAM, LeNet5
from zoo.modules import LocationPolicy
from zoo.reinforce import hybrid_loss
from zoo.sensor import extract_glimpses_reference

GLIMPSE_MODELS = ["ram", "dram", "dram_nocontext", "dram_hybrid", "mram", "mram_single"]
ALL_MODELS = sorted(["cnn", *GLIMPSE_MODELS])


def linear(i, o):
    return i * o + o


def lstm(i, h):
    return 4 * h * (i + h) + 2 * 4 * h  # PyTorch LSTMCell: two bias vectors


def conv(i, o, k):
    return i * o * k * k + o


GLIMPSE = linear(64, 128) + linear(2, 128) + 2 * linear(128, 256)
LOCATION = linear(256, 128) + linear(128, 2)
ACTION = linear(256, 10)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts():
    assert GLIMPSE == 74_752 and LOCATION == 33_154 and lstm(256, 256) == 526_336
    ram = GLIMPSE + lstm(256, 256) + LOCATION + ACTION + linear(256, 1)
    mram = GLIMPSE + 2 * lstm(256, 256) + LOCATION + ACTION + linear(512, 1)
    dram_nocontext = GLIMPSE + 2 * lstm(256, 256) + LOCATION + ACTION + linear(256, 1)
    context = conv(1, 32, 3) + conv(32, 64, 3) + linear(64 * 7 * 7, 256)
    assert (ram, mram, dram_nocontext) == (637_069, 1_163_661, 1_163_405)
    assert n_params(zoo.create_model("ram")) == ram
    assert n_params(zoo.create_model("mram")) == mram
    assert n_params(zoo.create_model("mram_single")) == dram_nocontext
    assert n_params(zoo.create_model("dram_nocontext")) == dram_nocontext
    assert n_params(zoo.create_model("dram_hybrid", context=False)) == mram
    dram = n_params(zoo.create_model("dram"))
    assert dram == dram_nocontext + context == 1_985_293
    assert abs(dram - 1.985e6) / 1.985e6 < 0.02  # the paper's count
    # the context net does not grow with the image (FER2013 48x48)
    assert n_params(zoo.create_model("dram", image_size=(48, 48))) == dram


def test_lenet_parameter_counts():
    head = linear(120, 84)
    convs = conv(1, 6, 5) + conv(6, 16, 5)
    assert n_params(zoo.create_model("cnn")) == convs + linear(400, 120) + head + linear(84, 10)
    assert n_params(zoo.create_model("cnn")) == 61_706
    fer = zoo.create_model("cnn", image_size=(48, 48), num_classes=7)
    assert n_params(fer) == convs + linear(16 * 10 * 10, 120) + head + linear(84, 7) == 205_451
    assert fer(torch.randn(2, 1, 48, 48)).shape == (2, 7)
    assert not fer.has_glimpses


@pytest.mark.parametrize("name", GLIMPSE_MODELS)
def test_two_scales_add_8192(name):
    one = n_params(zoo.create_model(name))
    assert n_params(zoo.create_model(name, scales=2)) - one == 64 * 128 == 8_192


@pytest.mark.parametrize("name", GLIMPSE_MODELS)
@pytest.mark.parametrize("glimpses", [7, 12])
def test_output_shapes_and_determinism(name, glimpses):
    torch.manual_seed(0)
    model = zoo.create_model(name, glimpses=glimpses, num_classes=4)
    images = torch.randn(3, 1, 28, 28)
    out = model(images)
    assert out.logits.shape == (3, 4)
    assert out.locations.shape == out.means.shape == (3, glimpses, 2)
    assert out.log_probs.shape == out.baselines.shape == (3, glimpses)
    assert not out.locations.requires_grad and out.means.requires_grad
    assert out.locations.abs().max() <= 1
    assert not torch.equal(out.locations, out.means.detach())  # sampled
    a, b = model(images, sample=False), model(images, sample=False)
    for field in ("logits", "locations", "means", "log_probs", "baselines"):
        assert torch.equal(getattr(a, field), getattr(b, field))
    assert torch.equal(a.locations, a.means.detach())


def test_multichannel_two_scale_48px():
    model = zoo.create_model("mram", channels=3, scales=2, image_size=(48, 48), num_classes=7)
    out = model(torch.randn(2, 3, 48, 48))
    assert out.logits.shape == (2, 7) and out.locations.shape == (2, 12, 2)


def _reference_forward(model, images):
    """Unroll a model by hand with sample=False: explicit wiring, reference sensor."""
    b, hid = len(images), model.hidden
    zero = torch.zeros(b, hid, dtype=images.dtype)
    gn, pol = model.glimpse_net, model.policy

    def mean_of(h):
        return torch.tanh(pol.fc_mean(torch.relu(pol.fc(h))))

    def glimpse(loc):
        patch = extract_glimpses_reference(images, loc, model.size, model.scales).flatten(1)
        return torch.relu(gn.fc_what(torch.relu(gn.fc_patch(patch)))
                          + gn.fc_where(torch.relu(gn.fc_loc(loc))))

    locs, bases = [], []
    if isinstance(model, RAM):
        h, c = zero, zero
        for _ in range(model.glimpses):
            loc = mean_of(h)
            locs.append(loc)
            bases.append(model.baseline.fc(h)[:, 0])
            h, c = model.core(glimpse(loc), (h, c))
        return model.action(h), locs, bases
    h1 = c1 = c2 = zero
    h2 = model.context(images) if isinstance(model, DRAM) and model.context else zero
    for _ in range(model.glimpses):
        loc = mean_of(h1 if isinstance(model, MRAM) else h2)
        locs.append(loc)
        if model.config["baseline"] == "hybrid":
            bases.append(model.baseline.fc(torch.cat([h1, h2], 1))[:, 0])
        else:
            bases.append(model.baseline.fc(h1 if isinstance(model, MRAM) else h2)[:, 0])
        h1, c1 = model.lower(glimpse(loc), (h1, c1))
        h2, c2 = model.upper(h1, (h2, c2))
    return model.action(h2 if isinstance(model, MRAM) else h1), locs, bases


@pytest.mark.parametrize("name", GLIMPSE_MODELS)
def test_forward_matches_hand_unrolled_reference(name):
    torch.manual_seed(1)
    model = zoo.create_model(name, glimpses=5, scales=2).double()
    images = torch.randn(4, 1, 28, 28, dtype=torch.float64)
    out = model(images, sample=False)
    logits, locs, bases = _reference_forward(model, images)
    torch.testing.assert_close(out.logits, logits, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out.locations, torch.stack(locs, 1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out.baselines, torch.stack(bases, 1), rtol=1e-12, atol=1e-12)
    # log pi of the mean itself: 2 * log N(0 | 0, std^2)
    const = -2 * (math.log(0.1) + 0.5 * math.log(2 * math.pi))
    torch.testing.assert_close(out.log_probs, torch.full((4, 5), const, dtype=torch.float64))


@pytest.mark.parametrize("name, constant", [("ram", True), ("mram", True),
                                            ("dram_nocontext", True), ("dram", False)])
def test_first_location_is_learned_constant_without_context(name, constant):
    torch.manual_seed(0)
    out = zoo.create_model(name)(torch.randn(4, 1, 28, 28), sample=False)
    first = out.locations[:, 0]
    assert torch.equal(first, first[:1].expand_as(first)) == constant


def test_location_policy_is_score_function_gaussian():
    torch.manual_seed(0)
    policy = LocationPolicy(hidden=16, std=0.5)
    with torch.no_grad():
        policy.fc_mean.bias.copy_(torch.tensor([2.0, -2.0]))  # means near +-0.96: clamping hits
    h = torch.randn(64, 16)
    torch.manual_seed(5)
    location, mean, log_prob = policy(h, sample=True)
    torch.manual_seed(5)
    x = mean.detach() + 0.5 * torch.randn(64, 2)
    assert not location.requires_grad
    assert torch.equal(location, x.clamp(-1, 1)) and (x.abs() > 1).any()
    expected = torch.distributions.Normal(mean.detach(), 0.5).log_prob(x).sum(-1)
    torch.testing.assert_close(log_prob, expected)
    # no reparameterisation: d log pi / d mean = (x - mean) / std^2
    (grad,) = torch.autograd.grad(log_prob.sum(), mean)
    torch.testing.assert_close(grad, (x - mean.detach()) / 0.25)


def _touched(model, prefix):
    grads = [p.grad for n, p in model.named_parameters() if n.startswith(prefix)]
    assert grads, prefix
    return any(g is not None and g.abs().sum() > 0 for g in grads)


def _grads_from(model, term):
    torch.manual_seed(0)
    model.zero_grad(set_to_none=True)
    images, targets = torch.randn(8, 1, 28, 28), torch.arange(8) % 10
    hybrid_loss(model(images), targets)[term].backward()
    return {p: _touched(model, p) for p in ("glimpse_net.", "policy.", "action.", "baseline.",
                                            "core.", "lower.", "upper.", "context.")
            if any(n.startswith(p) for n, _ in model.named_parameters())}


@pytest.mark.parametrize("name, expected", [
    ("ram", {"glimpse_net.": True, "core.": True, "action.": True}),
    ("mram", {"glimpse_net.": True, "lower.": True, "upper.": True, "action.": True}),
    ("dram", {"glimpse_net.": True, "lower.": True, "upper.": False, "context.": False,
              "action.": True}),
])
def test_classification_never_reaches_policy(name, expected):
    got = _grads_from(zoo.create_model(name), "classification")
    assert got == {**expected, "policy.": False, "baseline.": False}


@pytest.mark.parametrize("name, expected", [
    ("ram", {"glimpse_net.": True, "core.": True}),
    ("mram", {"glimpse_net.": True, "lower.": True, "upper.": False}),  # policy reads h1
    ("dram", {"glimpse_net.": True, "lower.": True, "upper.": True, "context.": True}),
])
def test_reinforce_trains_policy_not_action(name, expected):
    got = _grads_from(zoo.create_model(name), "reinforce")
    assert got == {**expected, "policy.": True, "action.": False, "baseline.": False}


@pytest.mark.parametrize("name", ["ram", "mram", "mram_single", "dram", "dram_hybrid"])
def test_baseline_loss_trains_baseline_only(name):
    got = _grads_from(zoo.create_model(name), "baseline")
    assert got.pop("baseline.") is True
    assert not any(got.values())


def test_bad_images_raise():
    with pytest.raises(ValueError, match=r"RAM: expected float images of shape \(B, 1, 28, 28\)"):
        zoo.create_model("ram")(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="LeNet5"):
        zoo.create_model("cnn")(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="baseline must be"):
        zoo.create_model("mram", baseline="mlp")


def test_list_and_create_every_model():
    assert zoo.list_models() == ALL_MODELS
    assert zoo.list_models("dram*") == ["dram", "dram_hybrid", "dram_nocontext"]
    classes = {"cnn": LeNet5, "ram": RAM, "mram": MRAM, "mram_single": MRAM, "dram": DRAM,
               "dram_nocontext": DRAM, "dram_hybrid": DRAM}
    for name in ALL_MODELS:
        model = zoo.create_model(name)
        assert type(model) is classes[name] and model.name == name
        assert model.has_glimpses == (name != "cnn")
    assert zoo.create_model("dram_nocontext").config["context"] is False
    assert zoo.create_model("dram_hybrid").config["baseline"] == "hybrid"
    assert zoo.create_model("mram_single").config["baseline"] == "single"


def test_registry_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="unknown model 'vit'; known models: cnn, dram, "):
        zoo.create_model("vit")
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path))  # an empty weights folder
    with pytest.raises(ValueError, match="no shipped weights fashion-mnist/mram-12"):
        zoo.create_model("mram", pretrained="fashion-mnist")
    with pytest.raises(ValueError, match="'dram_nocontext' fixes context=False"):
        zoo.create_model("dram_nocontext", context=True)


@pytest.mark.parametrize("name, kwargs", [
    *((n, {}) for n in ALL_MODELS),
    ("mram", dict(glimpses=7, scales=2, image_size=(48, 48), num_classes=7, std=0.05)),
    ("dram_nocontext", dict(channels=3, size=6, hidden=64)),
    ("cnn", dict(image_size=(48, 48), num_classes=7, pool="max")),
])
def test_config_round_trip(name, kwargs):
    model = zoo.create_model(name, **kwargs)
    again = zoo.create_model(model.name, **model.config)
    assert again.config == model.config and again.name == model.name
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert {k: v.shape for k, v in again.state_dict().items()} == shapes
    again.load_state_dict(model.state_dict())


def test_cnn_forward_is_plain_logits():
    torch.manual_seed(0)
    model = zoo.create_model("cnn", pool="max")
    images = torch.randn(2, 1, 28, 28)
    x = F.max_pool2d(F.relu(model.features[0](images)), 2)
    x = F.max_pool2d(F.relu(model.features[3](x)), 2).flatten(1)
    fc1, fc2, fc3 = model.classifier[0], model.classifier[2], model.classifier[4]
    torch.testing.assert_close(model(images), fc3(F.relu(fc2(F.relu(fc1(x))))))
