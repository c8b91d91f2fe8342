"""The Java ONNX evaluator (``com.alpyperl.policy.OnnxModel``) against onnxruntime, on real PyTorch exports.

Policies shaped like RLlib's defaults (``tests/onnx/make_test_models.py``) and RLlib's own PPO RLModules
are exported with the TorchScript exporter; thousands of random observations go through onnxruntime and
through the Java evaluator (in this process's JVM, via JPype), one at a time and as one batch. Outputs must
agree within 1e-5 and the greedy actions (argmax of each Discrete/MultiDiscrete segment) must be the same.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
import zlib
from pathlib import Path

import jpype
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from alpyperl import jvm

TOLERANCE = 1e-5
OBSERVATIONS = 2000  # per model, in one batch
SINGLE_CALLS = 300  # of those, evaluated one call at a time too


def _load_model_builders():
    path = Path(__file__).resolve().parent / "onnx" / "make_test_models.py"
    spec = importlib.util.spec_from_file_location("make_test_models", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


models = _load_model_builders()


@pytest.fixture(scope="module")
def java():
    """The Java classes, from the JVM of this process (started with alpyperl's jars)."""
    jvm.start_jvm()

    class Java:
        OnnxModel = jpype.JClass("com.alpyperl.policy.OnnxModel")
        OnnxFormatException = jpype.JClass("com.alpyperl.policy.OnnxFormatException")
        Paths = jpype.JClass("java.nio.file.Paths")
        FloatArray = jpype.JArray(jpype.JFloat)

        @classmethod
        def load(cls, path: Path):
            return cls.OnnxModel.load(cls.Paths.get(str(path)))

    return Java


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("onnx_models")
    return {name: models.make(name, folder) for name in models.CASES}


def observations(name: str, shape: tuple[int, ...], count: int = OBSERVATIONS) -> np.ndarray:
    """Reproducible random observations, wide enough to reach the activations' saturated ends."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return (rng.normal(size=(count, *shape)) * rng.choice([0.5, 2.0, 5.0], size=(count,) + (1,) * len(shape))).astype(np.float32)


def java_outputs(java, model, obs: np.ndarray, out_shape) -> tuple[np.ndarray, np.ndarray]:
    """The Java evaluator's outputs for all of ``obs`` as one batch, and for the first rows one call at a time."""
    batch = np.asarray(model.run(java.FloatArray(obs.ravel()), len(obs))).reshape(out_shape)
    single = np.stack([np.asarray(model.run(java.FloatArray(row.ravel()))) for row in obs[:SINGLE_CALLS]])
    return batch, single.reshape((SINGLE_CALLS,) + tuple(out_shape[1:]))


def assert_same_actions(expected: np.ndarray, got: np.ndarray, segments: list[int]) -> None:
    """Same argmax in every action segment, except where onnxruntime's top two logits tie within the tolerance."""
    start = 0
    decided = 0
    for size in segments:
        ref = expected[:, start:start + size]
        top2 = np.sort(ref, axis=1)[:, -2:] if size > 1 else np.zeros((len(ref), 2))
        clear = (top2[:, 1] - top2[:, 0]) > 2 * TOLERANCE
        mismatch = (ref.argmax(axis=1) != got[:, start:start + size].argmax(axis=1)) & clear
        assert not mismatch.any(), f"{mismatch.sum()} different actions in segment at {start}, rows {np.flatnonzero(mismatch)[:10]}"
        decided += clear.sum()
        start += size
    assert start == expected.shape[1] or not segments
    assert decided >= 0.99 * len(expected) * len(segments), "too many near-ties: the action check would be vacuous"


@pytest.mark.parametrize("name", list(models.CASES))
def test_java_matches_onnxruntime_on_torch_exports(name, exported, java):
    case = models.CASES[name]
    path = exported[name]
    obs = observations(name, case.obs_shape)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"obs": obs})[0]
    model = java.load(path)
    assert list(model.inputNames()) == ["obs"] and list(model.outputNames()) == ["action_dist_inputs"]
    assert list(model.inputShape("obs")) == [-1, *case.obs_shape]
    assert list(model.outputShape("action_dist_inputs")) == [-1, expected.shape[1]]
    assert model.supportsBatches()

    batch, single = java_outputs(java, model, obs, expected.shape)
    assert np.abs(batch - expected).max() <= TOLERANCE
    assert np.abs(single - expected[:SINGLE_CALLS]).max() <= TOLERANCE
    assert np.array_equal(single, batch[:SINGLE_CALLS])  # a row's result does not depend on the batch
    assert_same_actions(expected, batch, case.action_segments())


# ---------------------------------------------------------------------------------------- RLlib's own modules

class InferenceWrapper(torch.nn.Module):
    """What alpyperl exports: the module's inference forward pass, flat observation in, action_dist_inputs out."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, obs):
        return self.module.forward_inference({"obs": obs})["action_dist_inputs"]


def export_rllib_module(observation_space, action_space, path: Path, **model_config) -> Path:
    from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    torch.manual_seed(3)
    module = RLModuleSpec(module_class=DefaultPPOTorchRLModule, observation_space=observation_space,
                          action_space=action_space, model_config=DefaultModelConfig(**model_config)).build()
    module.eval()
    return models.export(InferenceWrapper(module), observation_space.shape, path)


def rllib_cases():
    import gymnasium as gym

    box = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    return {
        "cartpole_discrete": (box, gym.spaces.Discrete(2), {}, [2]),
        "box_actions": (gym.spaces.Box(-1.0, 1.0, (7,), np.float32), gym.spaces.Box(-2.0, 2.0, (3,), np.float32), {}, []),
        "multidiscrete_relu64": (box, gym.spaces.MultiDiscrete([3, 2, 4]),
                                 {"fcnet_hiddens": [64, 64], "fcnet_activation": "relu"}, [3, 2, 4]),
        "discrete_silu_layernorm_head": (box, gym.spaces.Discrete(5),
                                         {"fcnet_activation": "silu", "fcnet_use_layernorm": True,
                                          "head_fcnet_hiddens": [32]}, [5]),
    }


@pytest.mark.parametrize("name", list(rllib_cases()))
def test_java_matches_onnxruntime_on_rllib_ppo_modules(name, tmp_path, java):
    observation_space, action_space, config, segments = rllib_cases()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = export_rllib_module(observation_space, action_space, tmp_path / f"{name}.onnx", **config)
    obs = observations(name, observation_space.shape)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"obs": obs})[0]
    model = java.load(path)
    batch, single = java_outputs(java, model, obs, expected.shape)
    assert np.abs(batch - expected).max() <= TOLERANCE
    assert np.abs(single - expected[:SINGLE_CALLS]).max() <= TOLERANCE
    assert_same_actions(expected, batch, segments)


def test_rllib_free_log_std_export_is_recognised_as_batch_one_only(tmp_path, java):
    """RLlib's free_log_std head exports ``len(mean)`` as the constant 1, so the graph only runs at batch size 1
    (onnxruntime fails on larger batches too). The evaluator runs it at batch 1 and says why it cannot do more."""
    import gymnasium as gym

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = export_rllib_module(gym.spaces.Box(-1.0, 1.0, (5,), np.float32), gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
                                   tmp_path / "free_log_std.onnx", free_log_std=True)
    model = java.load(path)
    assert not model.supportsBatches()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for row in observations("free_log_std", (5,), 200):
        expected = session.run(None, {"obs": row[None]})[0][0]
        assert np.abs(np.asarray(model.run(java.FloatArray(row))) - expected).max() <= TOLERANCE
    with pytest.raises(jpype.JClass("java.lang.IllegalArgumentException"), match="evaluates only batch size 1"):
        model.run(java.FloatArray(np.zeros(10, np.float32)), 2)


# ---------------------------------------------------------------------------------------- files it must refuse

def test_truncated_exports_are_refused(exported, java):
    data = exported["box_tanh256"].read_bytes()
    for tenth in range(10):
        with pytest.raises(java.OnnxFormatException):
            java.OnnxModel.load(jpype.JArray(jpype.JByte)(data[: len(data) * tenth // 10]))


def test_an_lstm_policy_is_refused_with_the_operator_named(tmp_path, java):
    class Recurrent(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(4, 8, batch_first=True)
            self.head = torch.nn.Linear(8, 2)

        def forward(self, obs):
            out, _ = self.lstm(obs)
            return self.head(out[:, -1])

    path = models.export(Recurrent().eval(), (3, 4), tmp_path / "lstm.onnx")
    with pytest.raises(java.OnnxFormatException, match=r"unsupported ONNX operator 'LSTM' in node '/lstm/LSTM'"):
        java.load(path)


def test_metadata_props_reach_java_as_a_map(exported, java, tmp_path):
    proto = onnx.load(str(exported["discrete_tanh64"]))
    info = {"format": 1, "action_space": {"type": "Discrete", "n": 2}, "note": "größe ✓"}
    onnx.helper.set_model_props(proto, {"alpyperl": json.dumps(info), "trained_on": "CartPole"})
    path = tmp_path / "with_metadata.onnx"
    onnx.save(proto, str(path))
    metadata = java.load(path).metadata()
    assert dict((str(k), str(v)) for k, v in metadata.items()) == {"alpyperl": json.dumps(info), "trained_on": "CartPole"}
    assert json.loads(str(metadata.get("alpyperl"))) == info
