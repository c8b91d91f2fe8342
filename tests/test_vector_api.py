"""AnyLogicVectorEnv and the rest of Gymnasium's vector API: the three autoreset modes and
``reset(options={"reset_mask": ...})`` checked against Gymnasium's own SyncVectorEnv over
AnyLogicEnvs, ``get_attr``/``set_attr``/``call``, ``render_mode="rgb_array"``, and the errors
for what it refuses."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import alpyperl
from alpyperl import AlpyperlError, AnyLogicEnv, AnyLogicVectorEnv, ModelLoadError, ResetNeeded

N = 3
PARAMS = {"maxSteps": 12}  # short episodes: terminations (the pole falls) and truncations (12 steps) both occur


def make_pair(model, mode: AutoresetMode, **settings):
    """The vector env and Gymnasium's SyncVectorEnv of AnyLogicEnvs, with the same settings."""
    vector = AnyLogicVectorEnv(model=model, num_envs=N, env_params=PARAMS, autoreset_mode=mode, **settings)
    reference = SyncVectorEnv([lambda: AnyLogicEnv(model=model, env_params=PARAMS) for _ in range(N)],
                              autoreset_mode=mode)
    return vector, reference


def assert_same_step(got, want, mode: AutoresetMode):
    for value, expected in zip(got[:4], want[:4]):
        assert np.array_equal(value, expected)
    got_info, want_info = got[4], want[4]
    if "_seed" in want_info:  # the envs that started an episode in this step, and their seeds
        assert np.array_equal(got_info["_seed"], want_info["_seed"])
        assert np.array_equal(got_info["seed"][want_info["_seed"]], want_info["seed"][want_info["_seed"]])
    else:
        assert not got_info.get("_seed", np.zeros(N, dtype=bool)).any()
    if mode is AutoresetMode.SAME_STEP and "_final_obs" in want_info:
        assert np.array_equal(got_info["_final_obs"], want_info["_final_obs"])
        assert np.array_equal(got_info["_final_info"], want_info["_final_info"])
        for index in np.flatnonzero(want_info["_final_obs"]):
            assert np.array_equal(got_info["final_obs"][index], want_info["final_obs"][index])
    else:
        assert "final_obs" not in got_info


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_autoreset_modes_step_as_gymnasiums_sync_vector_env(cartpole_model, mode):
    vector, reference = make_pair(cartpole_model, mode)
    assert vector.metadata["autoreset_mode"] is mode and reference.metadata["autoreset_mode"] is mode
    calls = count_calls_into_java(vector)
    try:
        got, want = vector.reset(seed=40), reference.reset(seed=40)
        assert np.array_equal(got[0], want[0]) and got[1]["seed"].tolist() == [40, 41, 42]
        rng = np.random.default_rng(1)
        endings = 0
        for _ in range(60):
            actions = rng.integers(0, 2, N)
            before = len(calls)
            got, want = vector.step(actions), reference.step(actions)
            assert_same_step(got, want, mode)
            ended = got[2] | got[3]
            endings += int(ended.sum())
            # One call into Java per step; with same-step autoreset, a second when episodes ended.
            assert len(calls) - before == (2 if mode is AutoresetMode.SAME_STEP and ended.any() else 1)
        assert endings >= 10
    finally:
        vector.close()
        reference.close()


@pytest.mark.parametrize("threads", ["caller", "virtual", "platform"])
def test_reset_mask_resets_only_the_masked_sub_environments_in_one_call(cartpole_model, threads):
    vector, reference = make_pair(cartpole_model, AutoresetMode.NEXT_STEP, model_threads=threads, parallelism=2)
    assert vector.model_threads == threads
    calls = count_calls_into_java(vector)
    try:
        vector.reset(seed=7)
        reference.reset(seed=7)
        ones = np.ones(N, dtype=np.int64)
        for _ in range(3):
            assert_same_step(vector.step(ones), reference.step(ones), AutoresetMode.NEXT_STEP)
        before = vector.step(ones)[0]
        reference.step(ones)
        mask = np.array([False, True, False])
        calls.clear()
        observations, info = vector.reset(seed=[None, 100, None], options={"reset_mask": mask})
        want, want_info = reference.reset(seed=[None, 100, None], options={"reset_mask": mask.copy()})
        assert len(calls) == 1
        assert np.array_equal(observations, want)
        assert np.array_equal(observations[[0, 2]], before[[0, 2]])  # the others kept their episodes
        assert info["_seed"].tolist() == [False, True, False] and info["seed"][1] == 100
        assert vector.get_attr("episode_seed") == (7, 100, 9)
        rng = np.random.default_rng(2)
        for _ in range(30):
            actions = rng.integers(0, 2, N)
            assert_same_step(vector.step(actions), reference.step(actions), AutoresetMode.NEXT_STEP)
        # A masked reset without seeds draws each one's next seed from its own generator.
        mask = np.array([True, False, True])
        got = vector.reset(options={"reset_mask": mask})
        want = reference.reset(options={"reset_mask": mask.copy()})
        assert np.array_equal(got[0], want[0])
        for _ in range(30):
            actions = rng.integers(0, 2, N)
            assert_same_step(vector.step(actions), reference.step(actions), AutoresetMode.NEXT_STEP)
    finally:
        vector.close()
        reference.close()


def test_disabled_autoreset_refuses_to_step_an_ended_episode_until_a_masked_reset(cartpole_model):
    vector, reference = make_pair(cartpole_model, AutoresetMode.DISABLED)
    try:
        vector.reset(seed=3)
        reference.reset(seed=3)
        ones = np.ones(N, dtype=np.int64)
        ended = np.zeros(N, dtype=bool)
        while not ended.any():
            got, want = vector.step(ones), reference.step(ones)
            assert_same_step(got, want, AutoresetMode.DISABLED)
            ended = got[2] | got[3]
        named = re.escape(f"those of sub-environments {np.flatnonzero(ended).tolist()} have ended")
        with pytest.raises(ResetNeeded, match=rf"{named}; with autoreset_mode=DISABLED .*reset_mask"):
            vector.step(ones)
        got = vector.reset(options={"reset_mask": ended})
        want = reference.reset(options={"reset_mask": ended.copy()})
        assert np.array_equal(got[0], want[0])
        assert_same_step(vector.step(ones), reference.step(ones), AutoresetMode.DISABLED)
    finally:
        vector.close()
        reference.close()


def test_bad_reset_masks_and_modes_are_refused(cartpole_model):
    with pytest.raises(ValueError, match=r"autoreset_mode must be one of AutoresetMode.NEXT_STEP \('NextStep'\), "
                                         r"AutoresetMode.SAME_STEP \('SameStep'\), .*got 'sometimes'"):
        AnyLogicVectorEnv(model=cartpole_model, num_envs=2, autoreset_mode="sometimes")
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=2, autoreset_mode="SAME_STEP")
    try:
        assert vector.autoreset_mode is AutoresetMode.SAME_STEP
        with pytest.raises(ResetNeeded, match="none are running .*call reset\\(\\) without reset_mask first"):
            vector.reset(options={"reset_mask": np.array([True, False])})
        vector.reset(options={"reset_mask": np.array([True, True])})  # all of them: a full reset
        for mask, problem in [(np.array([1, 0]), "must be a numpy array of 2 bools"),
                              (np.array([True, False, True]), "must be a numpy array of 2 bools"),
                              (np.array([False, False]), "is false everywhere")]:
            with pytest.raises(ValueError, match=problem):
                vector.reset(options={"reset_mask": mask})
        vector.step(np.array([0, 1]))  # still running: nothing was changed by the refused resets
    finally:
        vector.close()


def test_get_attr_answers_what_each_anylogic_env_would(cartpole_model):
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=N, env_params=PARAMS, model_threads="platform")
    single = AnyLogicEnv(model=cartpole_model, env_params=PARAMS)
    try:
        vector.reset(seed=5)
        single.reset(seed=6)
        assert vector.get_attr("observation_space") == (single.observation_space,) * N
        assert vector.get_attr("action_space") == (single.action_space,) * N
        assert vector.get_attr("env_params") == (PARAMS,) * N
        assert vector.get_attr("episode_seed") == (5, 6, 7)
        assert vector.get_attr("instance_label") == tuple(vector.instance_labels)
        assert vector.get_attr("model_threads") == ("platform",) * N
        assert vector.get_attr("render_mode") == (None,) * N
        assert vector.get_attr("step_timeout") == (single.step_timeout,) * N
        # each sub-environment's generator of episode seeds is in the state of the AnyLogicEnv's
        assert vector.get_attr("np_random")[1].integers(1000) == single.np_random.integers(1000)
        assert vector.call("model_path") == (vector.model_path,) * N
        with pytest.raises(AttributeError, match="no attribute 'gravity': they are model instances in Java"):
            vector.get_attr("gravity")
    finally:
        vector.close()
        single.close()


def test_set_attr_sets_the_shared_model_parameters_and_nothing_else(cartpole_model):
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=2)
    try:
        vector.set_attr("env_params", {"maxSteps": 2})
        assert vector.env_params == {"maxSteps": 2}
        vector.reset(seed=0)
        ones = np.ones(2, dtype=np.int64)
        vector.step(ones)
        _, _, terminated, truncated, _ = vector.step(ones)
        assert truncated.all() and not terminated.any()  # the episodes ended after 2 steps
        vector.set_attr("env_params", [{"maxSteps": 3}, {"maxSteps": 3}])
        assert vector.get_attr("env_params") == ({"maxSteps": 3},) * 2
        with pytest.raises(ValueError, match=r"values for sub-environments \[1\] that differ .*share their model "
                                             "parameters"):
            vector.set_attr("env_params", [{"maxSteps": 3}, {"maxSteps": 4}])
        with pytest.raises(ValueError, match="got 1 values for 2 sub-environments"):
            vector.set_attr("env_params", [{"maxSteps": 3}])
        with pytest.raises(TypeError, match="env_params must be a mapping"):
            vector.set_attr("env_params", 3)
        with pytest.raises(AttributeError, match=r"set_attr\('gravity', ...\) is not possible.*'env_params' only"):
            vector.set_attr("gravity", 9.8)
        assert vector.env_params == {"maxSteps": 3}
    finally:
        vector.close()
    single = AnyLogicEnv(model=cartpole_model)
    try:
        single.env_params = {"maxSteps": 1}  # as DummyVecEnv.set_attr and SyncVectorEnv.set_attr set it
        single.reset(seed=0)
        assert single.step(1)[3]
    finally:
        single.close()


def test_call_renders_or_reads_and_refuses_to_step_one_sub_environment(cartpole_model):
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=2)
    try:
        vector.reset(seed=0)
        assert vector.call("episode_seed") == (0, 1)
        with pytest.warns(UserWarning, match="no render_mode"):
            assert vector.call("render") == (None, None)
        for name, use in [("reset", r"reset\(options=\{'reset_mask': mask\}\)"), ("step", r"step\(actions\)"),
                          ("close", r"close\(\)")]:
            with pytest.raises(ValueError, match=rf"call\('{name}'\) would {name} each sub-environment on its own.*"
                                                 rf"{use}"):
                vector.call(name)
        with pytest.raises(AttributeError, match="no method or attribute 'push'"):
            vector.call("push", 1.0)
        with pytest.raises(TypeError, match=r"call\('episode_seed'\) takes no arguments"):
            vector.call("episode_seed", 1)
    finally:
        vector.close()


def test_rgb_array_frames_are_those_of_separate_environments(cartpole_model):
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=2, render_mode="rgb_array", render_size=(120, 80))
    singles = [AnyLogicEnv(model=cartpole_model, render_mode="rgb_array", render_size=(120, 80)) for _ in range(2)]
    try:
        assert vector.metadata["render_modes"] == ["rgb_array"] and vector.get_attr("render_mode") == ("rgb_array",) * 2
        with pytest.raises(ResetNeeded, match="render\\(\\) has no model to draw"):
            vector.render()
        vector.reset(seed=11)
        for index, env in enumerate(singles):
            env.reset(seed=11 + index)
        vector.step(np.array([0, 1]))
        singles[0].step(0)
        singles[1].step(1)
        frames = vector.render()
        assert len(frames) == 2 and all(frame.shape == (80, 120, 3) and frame.dtype == np.uint8 for frame in frames)
        assert all(np.array_equal(frame, env.render()) for frame, env in zip(frames, singles))
        assert not np.array_equal(frames[0], frames[1])
        assert all(np.array_equal(a, b) for a, b in zip(vector.call("render"), frames))
    finally:
        vector.close()
        for env in singles:
            env.close()
    with pytest.raises(ValueError, match="render_mode='human' shows one model in a window: use it with an AnyLogicEnv"):
        AnyLogicVectorEnv(model=cartpole_model, num_envs=2, render_mode="human")


def test_rgb_array_needs_a_model_that_draws(test_model):
    with pytest.raises(ModelLoadError, match="render_mode='rgb_array' needs a model that draws itself"):
        AnyLogicVectorEnv(model=test_model, num_envs=2, render_mode="rgb_array")


def test_make_vec_passes_the_autoreset_mode_and_render_mode(cartpole_model):
    envs = gym.make_vec(alpyperl.GYMNASIUM_ID, num_envs=2, model=cartpole_model, autoreset_mode="SameStep",
                        render_mode="rgb_array")
    try:
        assert envs.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP and envs.render_mode == "rgb_array"
    finally:
        envs.close()
    envs.close()
    with pytest.raises(AlpyperlError, match="the environment is closed"):
        envs.render()


def count_calls_into_java(vector: AnyLogicVectorEnv) -> list[int]:
    """Records each call into Java that steps or resets ``vector``'s instances."""
    calls: list[int] = []
    run = vector._instances.run

    def counted() -> int:
        calls.append(1)
        return run()

    vector._instances.run = counted
    return calls
