"""Action masks of single-agent models (``MaskedModel``): the observation carries the mask as
RLlib's action-masking module reads it, a masked action is refused in Java before the model runs
(one environment and a vector of them), the mask's errors, ``alpyperl run`` with random valid
actions, and models without a mask unchanged. The models: ``examples/maintenance`` (a machine
that produces, is serviced or waits) and ``MaskedChoicesModel`` of ``tests/models`` (masks given
as a parameter, action space given by the test)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from gymnasium import spaces

from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, ModelError, SpaceDefinitionError
from alpyperl.masks import is_masked, masked_observation_space, sample_valid
from conftest import built_model
from test_attach import attach_file, attached_env, start_ide  # noqa: F401 (attach_file, start_ide: fixtures)
from test_errors import model_copy

MASKED_CHOICES = "com.alpyperl.testmodels.MaskedChoicesModel"
PRODUCE, SERVICE, WAIT = 0, 1, 2


@pytest.fixture(scope="module")
def maintenance_model():
    return built_model("examples/maintenance/build/model")


@pytest.fixture
def masked_choices(test_model, tmp_path):
    return model_copy(test_model, tmp_path, MASKED_CHOICES)


def test_the_observation_carries_the_models_mask(maintenance_model):
    with AnyLogicEnv(model=maintenance_model, model_output="off") as env:
        assert env.observation_space == spaces.Dict({
            "action_mask": spaces.Box(0.0, 1.0, (3,), np.float32),
            "observations": spaces.Box(0.0, 1.0, (4,), np.float32),
        })
        assert list(env.observation_space.spaces) == ["action_mask", "observations"]
        observation, _ = env.reset(seed=3)
        seen = set()
        for _ in range(200):
            assert env.observation_space.contains(observation)
            mask, (wear, material, technician, _) = observation["action_mask"], observation["observations"]
            # Maintenance.getActionMask(): produce needs material, service the technician and some wear
            assert list(mask) == [material > 0, technician == 1 and wear > 0, True]
            seen.add(tuple(mask))
            observation, _, terminated, truncated, _ = env.step(PRODUCE if mask[PRODUCE] else WAIT)
            if terminated or truncated:
                break
        assert len(seen) >= 3, f"the episode showed too few different masks: {seen}"


def first_decision_with_masked(env, action, seed):
    """Resets ``env`` with ``seed`` and waits (with valid actions) for a decision that masks ``action``;
    returns the valid actions taken on the way and the observation."""
    observation, _ = env.reset(seed=seed)
    taken = []
    while observation["action_mask"][action]:
        choice = WAIT if action != WAIT else PRODUCE
        taken.append(choice)
        observation, *_ = env.step(choice)
    return taken, observation


def test_a_masked_action_is_refused_and_the_same_decision_still_waits(maintenance_model):
    with AnyLogicEnv(model=maintenance_model, model_output="off") as env:
        taken, observation = first_decision_with_masked(env, SERVICE, seed=5)
        valid = ", ".join(str(a) for a in np.flatnonzero(observation["action_mask"]))
        with pytest.raises(ValueError, match=rf"^the action is masked: 1 is not valid now; the valid actions are "
                                             rf"{valid}$"):
            env.step(SERVICE)
        after_refusal = [env.step(WAIT)[0] for _ in range(5)]
        # The same seed and the same valid actions without the refused one: the same trajectory.
        first_decision_with_masked(env, SERVICE, seed=5)
        without = [env.step(WAIT)[0] for _ in range(5)]
    for got, expected in zip(after_refusal, without):
        np.testing.assert_array_equal(got["observations"], expected["observations"])
        np.testing.assert_array_equal(got["action_mask"], expected["action_mask"])


def test_in_a_vector_env_the_refusal_names_the_environment_and_no_model_runs(maintenance_model):
    env = AnyLogicVectorEnv(model=maintenance_model, num_envs=2, model_output="off")
    try:
        assert is_masked(env.single_observation_space)
        observations, _ = env.reset(seed=[11, 12])
        masks = observations["action_mask"]
        assert masks.shape == (2, 3)
        # Find a step at which the second model masks something; the first always has a valid WAIT.
        for _ in range(200):
            if not masks[1].all():
                break
            observations, *_ = env.step(np.array([WAIT, WAIT]))
            masks = observations["action_mask"]
        masked = int(np.flatnonzero(masks[1] == 0)[0])
        before = {key: value.copy() for key, value in observations.items()}
        with pytest.raises(ValueError, match=rf"^the action of environment 1 is masked: {masked} is not valid now"):
            env.step(np.array([WAIT, masked]))
        observations, *_ = env.step(np.array([WAIT, WAIT]))  # both models still waited at their decision
        hours_on = (before["observations"][:, 3] - observations["observations"][:, 3]) * 200  # hours left / 200
        np.testing.assert_allclose(hours_on, [1, 1], atol=1e-4)  # one hour on: the refused step ran no model
    finally:
        env.close()


def test_multi_discrete_masks_name_the_entry(masked_choices):
    with AnyLogicEnv(model=masked_choices, action_space=spaces.MultiDiscrete([2, 3]),
                     env_params={"masks": "10011|11111"}, model_output="off") as env:
        assert env.observation_space["action_mask"].shape == (5,)
        observation, _ = env.reset(seed=1)
        np.testing.assert_array_equal(observation["action_mask"], [1, 0, 0, 1, 1])
        with pytest.raises(ValueError, match=r"^the action is masked: entry 1 is 0, which is not valid now; its valid "
                                             r"choices are 1, 2$"):
            env.step(np.array([0, 0]))
        observation, *_ = env.step(np.array([0, 2]))
        np.testing.assert_array_equal(observation["observations"], [1, 2])
        np.testing.assert_array_equal(observation["action_mask"], [1, 1, 1, 1, 1])


def test_a_null_mask_allows_every_action(masked_choices):
    with AnyLogicEnv(model=masked_choices, action_space=spaces.Discrete(3), model_output="off") as env:
        observation, _ = env.reset(seed=1)
        np.testing.assert_array_equal(observation["action_mask"], [1, 1, 1])
        for action in (0, 1, 2):
            observation, *_ = env.step(action)
        assert observation["observations"][1] == 3


def test_the_last_observation_allows_everything(masked_choices):
    with AnyLogicEnv(model=masked_choices, action_space=spaces.Discrete(3),
                     env_params={"masks": "001", "maxSteps": 1}, model_output="off") as env:
        observation, _ = env.reset(seed=1)
        np.testing.assert_array_equal(observation["action_mask"], [0, 0, 1])
        observation, _, terminated, _, _ = env.step(2)
        assert terminated
        np.testing.assert_array_equal(observation["action_mask"], [1, 1, 1])  # no action follows it


def test_a_mask_that_allows_nothing_fails_the_episode_with_a_model_error(masked_choices):
    with AnyLogicEnv(model=masked_choices, action_space=spaces.Discrete(3),
                     env_params={"masks": "111|000"}, model_output="off") as env:
        env.reset(seed=1)
        with pytest.raises(ModelError, match=r"getActionMask\(\) of the model allows no choice of its action space "
                                             r"Discrete\(3\); at least one must be valid"):
            env.step(0)
        observation, _ = env.reset(seed=2)  # the environment recovers with a new episode
        np.testing.assert_array_equal(observation["action_mask"], [1, 1, 1])


def test_a_mask_of_the_wrong_length_is_a_model_error(masked_choices):
    with AnyLogicEnv(model=masked_choices, action_space=spaces.Discrete(3),
                     env_params={"masks": "11"}, model_output="off") as env:
        with pytest.raises(ModelError, match=r"getActionMask\(\) of the model returned 2 entries, but its action "
                                             r"space Discrete\(3\) has 3 choices"):
            env.reset(seed=1)


def test_a_mask_needs_discrete_actions(masked_choices):
    with pytest.raises(SpaceDefinitionError, match=r"the model uses an action mask, but its action space Box"):
        AnyLogicEnv(model=masked_choices, action_space=spaces.Box(0, 1, (2,)), model_output="off")


def test_a_model_without_a_mask_is_unchanged(test_model):
    with AnyLogicEnv(model=test_model, model_output="off") as env:
        assert isinstance(env.observation_space, spaces.Box)
        assert "action_mask" not in env._instances.described
        assert not is_masked(env.observation_space)


def test_a_users_own_dict_of_the_same_keys_is_left_alone(test_model, tmp_path):
    """A model without MaskedModel whose Python-defined observation happens to be such a Dict."""
    folder = model_copy(test_model, tmp_path, "com.alpyperl.testmodels.PythonSpacesModel")
    space = masked_observation_space(spaces.Box(-1e9, 1e9, (1,)), spaces.Discrete(2))
    with AnyLogicEnv(model=folder, observation_space=space, action_space=spaces.Discrete(2), model_output="off") as env:
        assert env.observation_space == space
        env.reset(seed=1)
        env.step(1)  # nothing is masked: the model has no mask, whatever its observation's keys


def masked_export(anylogic_export, tmp_path):
    """A copy of the stand-in export whose launch script runs the masked cart-pole (com.acme.cartpole.MaskedMain)."""
    folder = tmp_path / "MaskedCartPole"
    shutil.copytree(anylogic_export, folder)
    script = folder / "CartPole_linux.sh"
    script.write_text(script.read_text().replace("com.acme.cartpole.Simulation", "com.acme.cartpole.MaskedSimulation"))
    return folder


def balancing(observation) -> int:
    """Balances the pole (push towards where it falls), and pushes the other way where the mask forbids that."""
    mask, (_, _, theta, theta_dot) = observation["action_mask"], observation["observations"]
    push = 1 if theta + 0.5 * theta_dot > 0 else 0
    return push if mask[push] else 1 - push


def masked_episode(env, seed: int) -> list:
    """One episode of :func:`balancing`: per step the mask, the model's observation (rounded) and the reward."""
    observation, _ = env.reset(seed=seed)
    trajectory = []
    while True:
        observation, reward, terminated, truncated, _ = env.step(balancing(observation))
        trajectory.append((observation["action_mask"].tolist(), np.round(observation["observations"], 9).tolist(),
                           reward))
        if terminated or truncated:
            return trajectory


def test_a_masked_model_in_anylogic_trains_as_in_process(start_ide, anylogic_export, tmp_path):
    """Attach mode carries the mask: the attached model's observations equal the in-process ones of
    the same export, masks included, and a masked action is refused in AnyLogic's JVM before the model
    (which throws on a masked action) sees it."""
    ide = start_ide("-Dalpyperl.attach=true", experiment="com.acme.cartpole.MaskedSimulation")
    env = attached_env(ide)
    try:
        with AnyLogicEnv(masked_export(anylogic_export, tmp_path), model_output="off") as local:
            assert env.observation_space == local.observation_space == masked_observation_space(
                local.observation_space["observations"], spaces.Discrete(2))
            attached = masked_episode(env, 2)  # seed 2: the cart drifts into both masked zones
            assert attached == masked_episode(local, 2)
            assert any(mask != [1.0, 1.0] for mask, _, _ in attached)
        observation, _ = env.reset(seed=2)
        while observation["action_mask"].all():
            observation, *_ = env.step(balancing(observation))
        forbidden = int(np.flatnonzero(observation["action_mask"] == 0)[0])
        with pytest.raises(ValueError, match=f"the action is masked: {forbidden} is not valid now; the valid actions "
                                             f"are {1 - forbidden}"):
            env.step(forbidden)  # MaskedMain would throw if it reached the model
        observation, *_ = env.step(1 - forbidden)  # the refused action changed nothing: the decision still waited
        assert env.observation_space.contains(observation)
    finally:
        env.close()


def test_alpyperl_run_with_the_random_policy_takes_valid_actions(maintenance_model, capsys):
    from alpyperl.cli import main

    assert main(["run", str(maintenance_model), "--episodes", "3", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert out.count(" truncated") == 3, out  # a masked action would have failed the episode


def test_alpyperl_info_says_whether_a_model_has_a_mask(maintenance_model, test_model, capsys):
    from alpyperl.cli import main

    assert main(["info", str(maintenance_model)]) == 0
    assert 'action mask   yes (MaskedModel): Python observes {"action_mask": ..., "observations": ...}' in \
        capsys.readouterr().out.splitlines()
    assert main(["info", str(test_model)]) == 0
    assert "action mask" not in capsys.readouterr().out
