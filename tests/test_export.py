"""ONNX export of RLlib policies (alpyperl.export): parity with torch, onnxruntime, RLlib and Java.

Random-init PPO RLModules (RLlib's default catalog, built from PPOConfig's module spec) for the
action and observation spaces the exporter supports are exported and verified on 2000 sampled
observations: onnxruntime against torch, the metadata's action rules against RLlib's own
deterministic actions, and Java's ``OnnxPolicy`` in this process's JVM. A 1-iteration PPO run on
the Java CartPole gives a real checkpoint. Files with wrong metadata must fail loudly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import jpype
import numpy as np
import onnx
import pytest
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.connectors.env_to_module import EnvToModulePipeline, FlattenObservations, MeanStdFilter

from alpyperl import ExportError, jvm
from alpyperl import export as ex
from alpyperl.cli.export import main as export_command
from alpyperl.export import rl_module, verify
from alpyperl.spaces import space_from_json

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "examples" / "inventory"))
import inventory  # noqa: E402  (the DES example's spaces)

BOX4 = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
SAMPLES = 2000


def build_module(observation_space: gym.Space, action_space: gym.Space, seed: int = 0, **model_config):
    """A random-init PPO RLModule as RLlib builds it for this environment (observations other than
    a 1-D Box reach it through FlattenObservations, so it is built for the flattened Box)."""
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
        module_space = FlattenObservations(observation_space, action_space).observation_space
    else:
        module_space = observation_space
    spec = PPOConfig().rl_module(model_config=model_config).get_rl_module_spec(
        spaces={"default_policy": (module_space, action_space)})
    torch.manual_seed(seed)
    return spec.build()


def export(tmp_path, observation_space, action_space, name="policy", *, normalize_actions=True, **model_config):
    module = build_module(observation_space, action_space, **model_config)
    lines: list[str] = []
    path = ex.export_module(module, tmp_path / f"{name}.onnx", observation_space=observation_space,
                            action_space=action_space, normalize_actions=normalize_actions, samples=SAMPLES,
                            log=lines.append)
    return module, path, lines


def summary_of(lines: list[str]) -> str:
    (summary,) = [line for line in lines if line.startswith("verified on")]
    return summary


def java_compared(summary: str) -> int:
    """How many observations Java's actions were compared on, from the summary line."""
    return int(summary.split("chose the same action for ")[1].split()[0])


# ---- parity per action and observation space --------------------------------------------------

TUPLE_OBS = gym.spaces.Tuple([gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (2, 2), np.float32),
                              gym.spaces.MultiDiscrete([2, 3]), gym.spaces.MultiBinary(2)])
# Keys deliberately not sorted: RLlib orders the distribution inputs by sorted key, the connector by the space.
DICT_ACTION = gym.spaces.Dict([("z", gym.spaces.Discrete(3)), ("a", gym.spaces.Box(-1.0, 2.0, (2,), np.float32)),
                               ("m", gym.spaces.MultiDiscrete([2, 4]))])

CASES = {
    "discrete_cartpole": (gym.spaces.Box(np.array([-4.8, -np.inf, -0.42, -np.inf], np.float32),
                                         np.array([4.8, np.inf, 0.42, np.inf], np.float32)),
                          gym.spaces.Discrete(2), {"fcnet_hiddens": [64, 64]}),
    "box_normalized_relu": (BOX4, gym.spaces.Box(-2.0, 3.0, (3,), np.float32), {"fcnet_activation": "relu"}),
    "box_free_log_std": (BOX4, gym.spaces.Box(-2.0, 3.0, (3,), np.float32), {"free_log_std": True}),
    "multidiscrete_shared_layers": (BOX4, gym.spaces.MultiDiscrete([3, 2, 4]),
                                    {"vf_share_layers": True, "fcnet_hiddens": [32]}),
    "box_2d_obs_unbounded_box_action": (gym.spaces.Box(-1.0, 1.0, (2, 3), np.float32),
                                        gym.spaces.Box(-np.inf, np.inf, (2,), np.float32), {}),
    "inventory_dict_obs": (inventory.observation_space(), inventory.action_space(), {"fcnet_hiddens": [64, 64]}),
    "tuple_obs_dict_action": (TUPLE_OBS, DICT_ACTION, {"fcnet_hiddens": [16]}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_exported_policy_matches_torch_rllib_and_java(name, tmp_path):
    observation_space, action_space, model_config = CASES[name]
    module, path, lines = export(tmp_path, observation_space, action_space, name, **model_config)

    assert path.is_file() and not (tmp_path / f"{name}.onnx.partial").exists()
    summary = summary_of(lines)
    assert f"verified on {SAMPLES} observations" in summary
    assert java_compared(summary) >= 0.98 * SAMPLES  # near-ties are rare: the Java check is not vacuous
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["obs"] and [o.name for o in proto.graph.output] == ["action_dist_inputs"]
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == ex.read_metadata(path)["input_size"]

    # Independently of the exporter's own check: onnxruntime at another batch size, on fresh observations.
    import onnxruntime

    metadata = ex.read_metadata(path)
    flat, module_input = verify._sample_observations(observation_space, 37, seed=99, removed_keys=(),
                                                  module_shape=tuple(module.observation_space.shape))
    got = onnxruntime.InferenceSession(str(path)).run(None, {"obs": ex.network_input(
        metadata["observation_layout"], flat, metadata["input_size"])})[0]
    with torch.no_grad():
        expected = module.forward_inference({"obs": torch.from_numpy(module_input)})["action_dist_inputs"].numpy()
    assert np.abs(got - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())


def test_box_actions_without_normalization_are_only_clipped(tmp_path):
    module, path, lines = export(tmp_path, BOX4, gym.spaces.Box(-0.5, 0.25, (2,), np.float32), normalize_actions=False)
    (entry,) = ex.read_metadata(path)["action_layout"]
    assert entry == {"kind": "gaussian", "from": 0, "size": 2, "low": [-0.5, -0.5], "high": [0.25, 0.25],
                     "normalized": False}
    assert java_compared(summary_of(lines)) == SAMPLES


def test_layouts_follow_rllib_order_for_the_network_and_the_connector_order_for_values():
    obs_layout, input_size = ex.observation_layout(inventory.observation_space())
    # Sorted keys for the network: backlog(3) day_of_week(one-hot 7) hour(1) on_hand(3) on_order(3) time(1) trigger(2);
    # connector offsets in the space's order (the same here), adjacent copies merged.
    assert obs_layout == [{"from": 0, "size": 3}, {"from": 3, "one_hot": 7, "start": 0}, {"from": 4, "size": 8},
                          {"from": 12, "one_hot": 2, "start": 0}]
    assert input_size == 20

    act_layout, output_size = ex.action_layout(DICT_ACTION)
    # RLlib's outputs: a (2 means + 2 log-stds) at 0, m (2 + 4 logits) at 4, z (3 logits) at 10;
    # the connector's values: z, a, m.
    assert [(entry["kind"], entry["from"]) for entry in act_layout] == [
        ("categorical", 10), ("gaussian", 0), ("categorical", 4), ("categorical", 6)]
    assert output_size == 13

    unsorted_obs = gym.spaces.Dict([("b", gym.spaces.Discrete(2)), ("a", gym.spaces.Box(0.0, 1.0, (2,)))])
    assert ex.observation_layout(unsorted_obs)[0] == [{"from": 1, "size": 2}, {"from": 0, "one_hot": 2, "start": 0}]


def test_metadata_round_trip(tmp_path):
    observation_space, action_space = TUPLE_OBS, DICT_ACTION
    _, path, _ = export(tmp_path, observation_space, action_space, fcnet_hiddens=[8])
    metadata = ex.read_metadata(path)
    assert metadata == ex.policy_metadata(observation_space, action_space)
    assert metadata["format_version"] == 1
    assert set(metadata) == {"format_version", "observation_space", "action_space", "input", "input_size", "output",
                             "output_size", "observation_layout", "action_layout"}
    assert space_from_json(json.dumps(metadata["observation_space"])) == observation_space
    assert space_from_json(json.dumps(metadata["action_space"])) == action_space
    # Infinite bounds are written the way Python's json writes them.
    box = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    text = json.dumps(ex.policy_metadata(box, box))
    assert "-Infinity" in text and json.loads(text)["action_layout"][0]["high"] == [float("inf")]

    jvm.start_jvm()
    policy = jpype.JClass("com.alpyperl.policy.OnnxPolicy").load(jpype.JClass("java.nio.file.Paths").get(str(path)))
    assert space_from_json(str(policy.getObservationSpace().toJson())) == observation_space
    assert space_from_json(str(policy.getActionSpace().toJson())) == action_space


# ---- what cannot be exported --------------------------------------------------------------------


def test_unsupported_spaces_are_refused_with_the_reason(tmp_path):
    with pytest.raises(ExportError, match=r"MultiBinary.*not supported: RLlib's default catalog"):
        ex.action_layout(gym.spaces.Tuple([gym.spaces.Discrete(2), gym.spaces.MultiBinary(3)]))
    with pytest.raises(ExportError, match=r"\['d'\].*start other than 0.*FlattenObservations"):
        ex.observation_layout(gym.spaces.Dict({"d": gym.spaces.Discrete(3, start=1)}))
    with pytest.raises(ExportError, match="integer Box"):
        ex.action_layout(gym.spaces.Box(0, 5, (2,), np.int64))
    module = build_module(BOX4, gym.spaces.Discrete(2), fcnet_hiddens=[8])
    with pytest.raises(ExportError, match=r"shape \(4,\).*gives 5 network inputs"):
        ex.export_module(module, tmp_path / "x.onnx", observation_space=gym.spaces.Box(-1, 1, (5,)),
                         action_space=gym.spaces.Discrete(2), log=None)
    with pytest.raises(ExportError, match="outputs 2 action-distribution inputs.*takes 3"):
        ex.export_module(module, tmp_path / "x.onnx", observation_space=BOX4, action_space=gym.spaces.Discrete(3),
                         log=None)
    recurrent = build_module(BOX4, gym.spaces.Discrete(2), use_lstm=True, lstm_cell_size=8, max_seq_len=4)
    with pytest.raises(ExportError, match="is stateful.*only stateless policies"):
        ex.export_module(recurrent, tmp_path / "x.onnx", observation_space=BOX4, action_space=gym.spaces.Discrete(2),
                         log=None)
    assert not list(tmp_path.iterdir())


# ---- corrupted exports fail loudly --------------------------------------------------------------


def rewrite_metadata(path: Path, change) -> None:
    proto = onnx.load(str(path))
    metadata = json.loads(proto.metadata_props[0].value)
    change(metadata)
    onnx.helper.set_model_props(proto, {ex.METADATA_KEY: json.dumps(metadata)})
    onnx.save(proto, str(path))


def test_wrong_observation_layout_fails_the_torch_parity(tmp_path):
    observation_space, action_space, config = CASES["inventory_dict_obs"]
    module, path, _ = export(tmp_path, observation_space, action_space, **config)

    def swap_copies(metadata):  # on_hand/on_order/time read from the backlog's place and vice versa
        layout = metadata["observation_layout"]
        layout[0]["from"], layout[2]["from"] = 4, 0
        layout[0]["size"], layout[2]["size"] = 3, 8
        layout[0], layout[2] = layout[2], layout[0]

    rewrite_metadata(path, swap_copies)
    with pytest.raises(ExportError, match=r"does not match the torch module: on observation \[.*\] \(sample \d+\)"):
        ex.verify_export(path, module, observation_space, action_space, samples=200)


def test_wrong_action_offsets_fail_the_rllib_check(tmp_path):
    module, path, _ = export(tmp_path, TUPLE_OBS, DICT_ACTION, fcnet_hiddens=[16])

    def connector_order_offsets(metadata):  # the mistake of ignoring RLlib's sorted keys: z's logits at 0
        metadata["action_layout"][0]["from"] = 0

    rewrite_metadata(path, connector_order_offsets)
    with pytest.raises(ExportError, match="do not reproduce RLlib's deterministic action: on observation"):
        ex.verify_export(path, module, TUPLE_OBS, DICT_ACTION, samples=200)


def test_java_refusing_or_disagreeing_fails_the_export(tmp_path, monkeypatch):
    module, path, _ = export(tmp_path, BOX4, gym.spaces.Discrete(3), fcnet_hiddens=[8])
    rewrite_metadata(path, lambda metadata: metadata.update(format_version=2))
    with pytest.raises(ExportError, match="Java's OnnxPolicy refuses the exported file.*format version 2"):
        ex.verify_export(path, module, BOX4, gym.spaces.Discrete(3), samples=50)

    # Python's expected actions off by one (the RLlib cross-check bypassed): only Java can notice.
    rewrite_metadata(path, lambda metadata: metadata.update(format_version=1))
    monkeypatch.setattr(verify, "_check_against_rllib", lambda *args: None)
    real = ex.deterministic_actions
    monkeypatch.setattr(verify, "deterministic_actions", lambda layout, outputs: (real(layout, outputs) + 1) % 3)
    with pytest.raises(ExportError, match=r"Java's OnnxPolicy chooses another action.*Java gives \[\d\.0\], Python"):
        ex.verify_export(path, module, BOX4, gym.spaces.Discrete(3), samples=50)


def test_a_failed_export_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    module = build_module(BOX4, gym.spaces.MultiDiscrete([3, 2]), fcnet_hiddens=[8])
    out = tmp_path / "policy.onnx"
    out.write_bytes(b"the previous export")
    real = ex.policy_metadata

    def reversed_categoricals(*args, **kwargs):
        metadata = real(*args, **kwargs)
        metadata["action_layout"].reverse()
        return metadata

    monkeypatch.setattr(rl_module, "policy_metadata", reversed_categoricals)
    with pytest.raises(ExportError):
        ex.export_module(module, out, observation_space=BOX4, action_space=gym.spaces.MultiDiscrete([3, 2]),
                         samples=100, log=None)
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.onnx"]


# ---- from a checkpoint --------------------------------------------------------------------------


TRAIN_ONE_ITERATION = """
import sys
import ray
from ray.rllib.algorithms.ppo import PPOConfig
from alpyperl import rllib

model, folder = sys.argv[1], sys.argv[2]
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
config = (PPOConfig()
          .environment(rllib.register_env(), env_config={"model": model})
          .env_runners(num_env_runners=1, num_envs_per_env_runner=1, rollout_fragment_length=64)
          .rl_module(model_config={"fcnet_hiddens": [16], "fcnet_activation": "relu"})
          .training(train_batch_size_per_learner=64, minibatch_size=64, num_epochs=1)
          .debugging(seed=3))
algo = rllib.build_algo(config)
algo.train()
algo.save(folder)
algo.stop()
ray.shutdown()
"""


@pytest.fixture(scope="module")
def cartpole_checkpoint(tmp_path_factory, cartpole_model):
    """A checkpoint of 1 tiny PPO iteration on the Java CartPole (one EnvRunner process).

    Trained in a separate Python process, as users do: Ray started in a process whose JVM is
    already running replaces the JVM's signal handlers, and the JVM then crashes on its next
    implicit null check (JIT-compiled code relies on SIGSEGV).
    """
    folder = tmp_path_factory.mktemp("cartpole_run")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                   "HOME": str(folder)}  # RLlib's ~/ray_results lands in the temporary folder
    result = subprocess.run([sys.executable, "-c", TRAIN_ONE_ITERATION, str(cartpole_model), str(folder / "ckpt")],
                            cwd=REPO, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder / "ckpt"


def test_export_from_a_checkpoint_of_the_java_cartpole(cartpole_checkpoint, tmp_path):
    lines: list[str] = []
    out = ex.export_checkpoint(cartpole_checkpoint, tmp_path / "cartpole.onnx", samples=SAMPLES, log=lines.append)
    metadata = ex.read_metadata(out)
    assert metadata["observation_space"]["type"] == "Box" and metadata["observation_space"]["shape"] == [4]
    assert metadata["action_space"] == {"type": "Discrete", "n": 2, "start": 0}
    assert metadata["observation_layout"] == [{"from": 0, "size": 4}]
    assert metadata["action_layout"] == [{"kind": "categorical", "from": 0, "n": 2, "start": 0}]
    assert java_compared(summary_of(lines)) >= 0.98 * SAMPLES


def test_the_command_line_exports_and_reports_errors(cartpole_checkpoint, tmp_path, capsys):
    out = tmp_path / "cli.onnx"
    assert export_command(["--checkpoint", str(cartpole_checkpoint), "--out", str(out), "--samples", "300"]) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and "verified on 300 observations" in printed and f"Wrote {out}" in printed

    assert export_command(["--checkpoint", str(cartpole_checkpoint), "--out", str(out), "--module-id", "nope"]) == 1
    assert "has no RLModule 'nope'; it has ['default_policy']" in capsys.readouterr().err
    assert export_command(["--checkpoint", str(tmp_path / "missing"), "--out", str(out)]) == 1
    assert "does not exist" in capsys.readouterr().err
    # The run's folder instead of the checkpoint in it: the error names the checkpoint to give.
    assert export_command(["--checkpoint", str(cartpole_checkpoint.parent), "--out", str(out)]) == 1
    assert f"it holds a checkpoint in {cartpole_checkpoint}: give that folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert export_command(["--checkpoint", str(tmp_path / "empty"), "--out", str(out)]) == 1
    assert "is missing (save one with algo.save(folder))" in capsys.readouterr().err


def test_a_checkpoint_with_an_observation_filter_is_refused(cartpole_checkpoint, tmp_path):
    copy = tmp_path / "filtered"
    shutil.copytree(cartpole_checkpoint, copy)
    connector = copy / "env_runner" / "env_to_module_connector"
    original = EnvToModulePipeline.from_checkpoint(str(connector))
    shutil.rmtree(connector)
    EnvToModulePipeline(input_observation_space=original.input_observation_space,
                        input_action_space=original.input_action_space,
                        connectors=[MeanStdFilter()]).save_to_path(str(connector))
    with pytest.raises(ExportError, match="holds MeanStdFilter, which changes observations"):
        ex.export_checkpoint(copy, tmp_path / "x.onnx", log=None)
    assert not (tmp_path / "x.onnx").exists()


def test_a_checkpoint_without_env_runner_needs_the_observation_space(cartpole_checkpoint, tmp_path):
    copy = tmp_path / "no_runner"
    shutil.copytree(cartpole_checkpoint, copy)
    shutil.rmtree(copy / "env_runner")
    with pytest.raises(ExportError, match="cannot tell the environment's observation space.*observation_space="):
        ex.export_checkpoint(copy, tmp_path / "x.onnx", log=None)
    space = gym.spaces.Box(-5.0, 5.0, (4,), np.float32)
    out = ex.export_checkpoint(copy, tmp_path / "x.onnx", observation_space=space, samples=200, log=None)
    assert space_from_json(json.dumps(ex.read_metadata(out)["observation_space"])) == space
