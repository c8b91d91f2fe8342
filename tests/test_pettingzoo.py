"""PettingZoo's Parallel API over a multi-agent model (alpyperl.pettingzoo.AnyLogicParallelEnv):
PettingZoo's own API test on the stand-in SwarmModel, the same episodes as AnyLogicMultiAgentEnv,
agents joining and leaving, masks in PettingZoo's form, and no import of pettingzoo."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from alpyperl.pettingzoo import AnyLogicParallelEnv
from conftest import built_model
from test_multi_agent import open_swarm, swarm_model  # noqa: F401 (a fixture)

#: What parallel_api_test warns when an episode ends before every declared agent took part (see docs).
NOT_ALL_POSSIBLE_AGENTS = "No agents present but not all possible_agents are terminated or truncated"


def chosen_actions(agents, observations, own=lambda value: value):
    """A fixed action per agent: walkers step towards 0, scouts (0, 1)."""
    return {agent: np.array([0, 1]) if agent.startswith("scout_") else
            (0 if own(observations[agent])[0] > 0 else 2) for agent in agents}


def test_pettingzoos_parallel_api_test_passes_with_masks_two_types_and_agents_leaving_and_joining(swarm_model):
    with AnyLogicParallelEnv(model=swarm_model, model_output="off",
                             env_params=dict(agents=3, scouts=2, ticks=6, leaveAt=2, joinAt=3, masks=True)) as env:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parallel_api_test(env, num_cycles=50)
        # The only complaint: the model declares 105 possible agents, an episode has 6 of them.
        assert {str(w.message) for w in caught} == {NOT_ALL_POSSIBLE_AGENTS}


def test_the_same_episode_as_the_multi_agent_environment_for_the_same_seed_and_actions(swarm_model):
    params = dict(agents=3, scouts=1, ticks=5, leaveAt=2, joinAt=3, masks=True)
    with open_swarm(swarm_model, **params) as inner:
        observations, _ = inner.reset(seed=11)
        expected = [(observations, None)]
        while inner.waiting_agents:
            actions = chosen_actions(inner.waiting_agents, observations, lambda o: o["observations"])
            observations, *reported, _ = inner.step(actions)
            expected.append((observations, reported))
        env = AnyLogicParallelEnv(inner)
        observations, infos = env.reset(seed=11)
        assert set(infos) == set(observations) and all(info["seed"] == 11 for info in infos.values())
        steps = [(observations, None)]
        while env.agents:
            assert env.agents == inner.waiting_agents and env.num_agents == len(env.agents)
            observations, rewards, terminations, truncations, infos = env.step(
                chosen_actions(env.agents, observations, lambda o: o["observation"]))
            assert infos == {agent: {} for agent in observations}
            steps.append((observations, [rewards, terminations, truncations]))
    assert len(steps) == len(expected) == 6
    for (observations, reported), (want, want_reported) in zip(steps, expected):
        assert list(observations) == list(want)
        for agent, value in observations.items():
            assert np.array_equal(value["observation"], want[agent]["observations"])
            mask = value["action_mask"]
            mask = np.concatenate(mask) if isinstance(mask, tuple) else mask
            assert np.array_equal(mask, want[agent]["action_mask"])
        if reported is not None:
            rewards, terminations, truncations = reported
            want_rewards, want_terminations, want_truncations = want_reported
            assert rewards == want_rewards
            assert terminations == {a: done for a, done in want_terminations.items() if a != "__all__"}
            assert truncations == {a: done for a, done in want_truncations.items() if a != "__all__"}


def test_an_agent_that_leaves_is_reported_once_and_one_that_joins_acts_from_then_on(swarm_model):
    with AnyLogicParallelEnv(model=swarm_model, model_output="off",
                             env_params=dict(agents=2, ticks=5, leaveAt=2, joinAt=3)) as env:
        observations, _ = env.reset(seed=1)
        seen = []
        while env.agents:
            observations, rewards, terminations, truncations, _ = env.step(
                chosen_actions(env.agents, observations, lambda o: o["observation"]))
            seen.append((sorted(observations), terminations, truncations, list(env.agents)))
        assert seen[1] == (["walker_0", "walker_1"], {"walker_0": True, "walker_1": False},
                           {"walker_0": False, "walker_1": False}, ["walker_1"])
        assert seen[2][0] == ["walker_1", "walker_100"] and seen[2][3] == ["walker_1", "walker_100"]
        # the end: every agent still in the episode is reported truncated, and none acts any more
        assert seen[-1] == (["walker_1", "walker_100"], {"walker_1": False, "walker_100": False},
                            {"walker_1": True, "walker_100": True}, [])
        assert "walker_100" in env.possible_agents and env.max_num_agents == 105


def test_the_model_finishing_terminates_every_agent_without_an_all_key(swarm_model):
    with AnyLogicParallelEnv(model=swarm_model, model_output="off",
                             env_params=dict(agents=2, scouts=1, ticks=10, finishAt=2)) as env:
        observations, _ = env.reset(seed=0)
        while env.agents:
            observations, _, terminations, truncations, _ = env.step(
                chosen_actions(env.agents, observations, lambda o: o["observation"]))
        assert terminations == {"walker_0": True, "walker_1": True, "scout_0": True}
        assert truncations == {"walker_0": False, "walker_1": False, "scout_0": False}


def test_masks_come_as_gymnasium_sample_takes_them_and_a_masked_action_is_refused(swarm_model):
    with AnyLogicParallelEnv(model=swarm_model, model_output="off",
                             env_params=dict(agents=6, scouts=1, ticks=3, masks=True)) as env:
        observations, _ = env.reset(seed=0)
        for agent, observation in observations.items():
            assert env.observation_space(agent).contains(observation)
            assert env.observation_space(agent) is env.observation_space(agent)
        scout = observations["scout_0"]["action_mask"]
        assert isinstance(scout, tuple) and [m.tolist() for m in scout] == [[1, 1], [1, 1, 0]]
        blocked = [a for a, o in observations.items() if a.startswith("walker_") and o["observation"][0] >= 2]
        assert blocked, "seed 0 puts walkers 0 and 3 at position 2"
        assert observations[blocked[0]]["action_mask"].tolist() == [1, 1, 0]
        for _ in range(20):
            assert env.action_space(blocked[0]).sample(mask=observations[blocked[0]]["action_mask"]) != 2
            assert env.action_space("scout_0").sample(mask=scout)[1] != 2
        actions = chosen_actions(env.agents, observations, lambda o: o["observation"]) | {blocked[0]: 2}
        with pytest.raises(ValueError, match=f"agent {blocked[0]} is masked: 2 is not valid now"):
            env.step(actions)
        assert env.agents == list(observations)  # nothing changed: the same agents still wait


def test_possible_agents_of_a_type_that_leaves_its_number_open_are_those_seen_so_far(swarm_model):
    with open_swarm(swarm_model, agents=2, scouts=1, ticks=5, joinAt=1) as inner:
        inner.agent_types["walker"].possible_agents = 0  # as a model whose getPossibleAgents("walker") is 0
        env = AnyLogicParallelEnv(inner)
        assert env.possible_agents == ["scout_0", "scout_1", "scout_2", "scout_3"]
        observations, _ = env.reset(seed=0)
        assert env.possible_agents[4:] == ["walker_0", "walker_1"]
        env.step(chosen_actions(env.agents, observations, lambda o: o["observation"]))
        assert env.possible_agents[4:] == ["walker_0", "walker_1", "walker_100"] and env.max_num_agents == 7


def test_agents_that_decide_at_their_own_times_act_only_when_they_wait(repo_root):
    # The job shop: a machine decides when it is idle, so `agents` changes without anyone leaving
    # (why PettingZoo's parallel_api_test cannot pass on it: docs/multi-agent.md).
    with AnyLogicParallelEnv(model=built_model("examples/jobshop/build/model"), model_output="off") as env:
        observations, _ = env.reset(seed=2)
        absent_and_back = set()
        absent = set()
        while env.agents:
            agents = env.agents
            absent_and_back |= absent & set(agents)
            actions = {a: int(np.flatnonzero(observations[a]["action_mask"])[0]) for a in agents}  # first valid
            observations, rewards, terminations, truncations, _ = env.step(actions)
            assert set(rewards) == set(terminations) == set(observations) and set(env.agents) <= set(observations)
            absent |= {a for a in agents if a not in observations}  # not reported: neither decides nor is done
        assert absent_and_back, "some machine should skip a decision and decide again later"


def test_wrapping_an_environment_takes_no_settings_and_unknown_types_are_named(swarm_model):
    with open_swarm(swarm_model) as inner:
        with pytest.raises(TypeError, match=r"settings \['max_agents'\] belong to AnyLogicMultiAgentEnv"):
            AnyLogicParallelEnv(inner, max_agents=4)
        env = AnyLogicParallelEnv(inner)
        with pytest.raises(ValueError, match=r"type 'robot'.*agent types are \['scout', 'walker'\]"):
            env.observation_space("robot_1")
        assert env.unwrapped is env and env.metadata["name"] == "alpyperl_FaultyModel"  # the folder's model name


def test_the_module_needs_no_pettingzoo():
    code = ("import sys; sys.modules['pettingzoo'] = None\n"
            "import alpyperl.pettingzoo; print(alpyperl.pettingzoo.AnyLogicParallelEnv.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "AnyLogicParallelEnv", result.stderr
