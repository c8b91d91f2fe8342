"""Models with several deciding agents (AnyLogicMultiAgentEnv over tests/models' SwarmModel): one
crossing for all agents that decide at one time, per-agent rewards, agents leaving and joining,
action masks, refused actions naming the agent, seeds, and the model's mistakes named."""

from __future__ import annotations


import numpy as np
import pytest
from gymnasium import spaces

from alpyperl import AnyLogicEnv, AnyLogicMultiAgentEnv, ModelError, ModelLoadError, ResetNeeded
from alpyperl.multi_agent import agent_type
from conftest import copy_of_test_model


@pytest.fixture(scope="module")
def swarm_model(test_model, tmp_path_factory):
    """A copy of the test model folder whose model class is SwarmModel."""
    return copy_of_test_model(test_model, tmp_path_factory.mktemp("swarm"), "SwarmModel")


def open_swarm(swarm_model, **params):
    settings = {key: params.pop(key) for key in ("max_agents",) if key in params}
    return AnyLogicMultiAgentEnv(model=swarm_model, env_params=params, model_output="off", **settings)


def walker_actions(env, observations, choose=lambda position: 0 if position > 0 else 2):
    """An action per walker that waits: towards 0 (or ``choose`` of its position)."""
    return {agent: choose(int(observations[agent]["observations"][0])) for agent in env.waiting_agents
            if agent.startswith("walker_")}


def test_agent_types_and_their_spaces_come_from_the_model(swarm_model):
    with open_swarm(swarm_model) as env:
        assert list(env.agent_types) == ["walker", "scout"]
        walker = env.get_observation_space("walker_7")
        assert isinstance(walker, spaces.Dict)
        assert walker["action_mask"] == spaces.Box(0.0, 1.0, (3,), np.float32)
        assert walker["observations"].shape == (2,)
        assert env.get_action_space("walker_7") == spaces.Discrete(3)
        assert env.get_action_space("scout_0") == spaces.MultiDiscrete([2, 3])
        assert env.observation_spaces_by_type["scout"]["action_mask"].shape == (5,)
        with pytest.raises(ValueError, match=r"type 'robot'.*agent types are \['scout', 'walker'\]"):
            env.get_observation_space("robot_1")


def test_agent_type_of_an_id():
    assert agent_type("machine_3") == "machine"
    assert agent_type("fork_lift_12") == "fork_lift"
    with pytest.raises(ValueError, match="not an agent id"):
        agent_type("machine")


def test_agents_deciding_at_one_time_cross_together_and_get_their_own_rewards(swarm_model):
    with open_swarm(swarm_model, agents=5, ticks=4) as env:
        observations, infos = env.reset(seed=3)
        assert sorted(observations) == [f"walker_{i}" for i in range(5)]
        assert all(info["seed"] == 3 for info in infos.values())
        steps = 0
        while True:
            positions = {agent: int(obs["observations"][0]) for agent, obs in observations.items()}
            ticks = {int(obs["observations"][1]) for obs in observations.values()}
            assert ticks == {steps}  # all five decided in this one step
            actions = {agent: (agent_number % 3) for agent, agent_number in
                       ((agent, int(agent.split("_")[1])) for agent in observations)}
            observations, rewards, terminateds, truncateds, _ = env.step(actions)
            steps += 1
            for agent, action in actions.items():
                moved = positions[agent] + action - 1
                assert int(observations[agent]["observations"][0]) == moved
                assert rewards[agent] == -abs(moved)
            if truncateds["__all__"]:
                break
            assert not any(terminateds.values()) and not any(truncateds.values())
        assert steps == 4  # one step per tick, not one per agent
        assert all(truncateds[agent] and not terminateds[agent] for agent in observations)
        assert terminateds["__all__"] is False


def test_agents_of_two_types_each_get_their_own_action_in_any_order(swarm_model):
    with open_swarm(swarm_model, agents=4, scouts=2, ticks=3) as env:
        observations, _ = env.reset(seed=5)
        assert list(observations) == ["walker_0", "walker_1", "walker_2", "walker_3", "scout_0", "scout_1"]
        positions = {agent: int(observations[agent]["observations"][0]) for agent in observations if "walker" in agent}
        actions = {"scout_1": np.array([1, 0]), "walker_3": 2, "scout_0": [0, 1], "walker_0": np.int64(0),
                   "walker_2": 1, "walker_1": 2}  # another order than the observations'
        observations, rewards, *_ = env.step(actions)
        for walker, position in positions.items():
            assert int(observations[walker]["observations"][0]) == position + actions[walker] - 1
        assert observations["scout_0"]["observations"].tolist() == [1, 1, 1]  # [tick, its last choice, 1]
        assert observations["scout_1"]["observations"].tolist() == [1, 0, 1]
        assert observations["scout_0"]["action_mask"].tolist() == [1, 1, 1, 1, 0]
        assert observations["walker_0"]["action_mask"].tolist() == [1, 1, 1]
        assert rewards["scout_0"] == rewards["scout_1"] == 1


def test_observations_stay_as_they_were_when_the_episode_goes_on(swarm_model):
    with open_swarm(swarm_model, agents=3, ticks=6) as env:
        observations, _ = env.reset(seed=2)
        kept, copies = [], []
        for _ in range(4):
            kept.append(observations)
            copies.append({agent: {key: value.copy() for key, value in obs.items()}
                           for agent, obs in observations.items()})
            observations, *_ = env.step(walker_actions(env, observations, choose=lambda position: 2))
        for old, copy in zip(kept, copies):
            for agent, obs in old.items():
                assert obs["observations"].tolist() == copy[agent]["observations"].tolist()
                assert obs["action_mask"].tolist() == copy[agent]["action_mask"].tolist()
        assert [int(obs["walker_0"]["observations"][1]) for obs in kept] == [0, 1, 2, 3]  # the ticks


def test_observations_of_many_agents_stay_as_they_were_while_their_masks_change(swarm_model):
    # many walkers, with masks that change: a walker at 2 or more may not step right
    with open_swarm(swarm_model, agents=24, ticks=8, masks=True) as env:
        observations, _ = env.reset(seed=3)
        kept, copies, kinds_of_masks = [], [], []
        for _ in range(6):
            kept.append(observations)
            copies.append({agent: {key: value.copy() for key, value in obs.items()}
                           for agent, obs in observations.items()})
            for obs in observations.values():
                assert obs["action_mask"].tolist() == [1, 1, float(obs["observations"][0] < 2)]
            kinds_of_masks.append(len({tuple(obs["action_mask"]) for obs in observations.values()}))
            actions = {agent: 2 if obs["action_mask"][2] else 1 for agent, obs in observations.items()}
            observations, *_ = env.step(actions)
        assert kinds_of_masks[0] == 2 and kinds_of_masks[-1] == 1  # some may step right at first, none later
        for old, copy in zip(kept, copies):
            for agent, obs in old.items():
                assert obs["observations"].tolist() == copy[agent]["observations"].tolist()
                assert obs["action_mask"].tolist() == copy[agent]["action_mask"].tolist()
        assert [int(obs["walker_0"]["observations"][1]) for obs in kept] == [0, 1, 2, 3, 4, 5]  # the ticks


def test_one_crossing_per_agent_when_the_model_asks_each_agent_alone(swarm_model):
    with open_swarm(swarm_model, agents=3, ticks=2, oneCrossingPerAgent=True) as env:
        observations, _ = env.reset(seed=1)
        steps = 0
        while True:
            assert len(observations) == 1 or steps == 6
            observations, _, _, truncateds, _ = env.step(walker_actions(env, observations))
            steps += 1
            if truncateds["__all__"]:
                break
        assert steps == 6


def test_an_agent_leaves_and_another_joins(swarm_model):
    with open_swarm(swarm_model, agents=2, ticks=5, leaveAt=2, joinAt=3) as env:
        observations, _ = env.reset(seed=0)
        seen = []
        assert env.agents == ["walker_0", "walker_1"]
        while True:
            observations, rewards, terminateds, truncateds, _ = env.step(walker_actions(env, observations))
            seen.append((sorted(observations), {a for a, done in terminateds.items() if done and a != "__all__"}))
            if len(seen) == 3:
                assert env.agents == ["walker_1", "walker_100"]  # walker_0 left, walker_100 joined
            if truncateds["__all__"] or terminateds["__all__"]:
                break
        assert seen[1] == (["walker_0", "walker_1"], {"walker_0"})  # its last observation, at the tick it left
        assert "walker_0" not in seen[2][0]
        assert "walker_100" in seen[2][0]
        assert set(observations) == {"walker_1", "walker_100"}
        assert env.agents == []  # every agent is done at the end


def test_the_model_finishing_terminates_every_agent(swarm_model):
    with open_swarm(swarm_model, agents=2, ticks=10, finishAt=2, scouts=1) as env:
        observations, _ = env.reset(seed=0)
        for _ in range(2):
            actions = walker_actions(env, observations) | {"scout_0": np.array([0, 1])}
            observations, rewards, terminateds, truncateds, _ = env.step(actions)
        assert terminateds == {"walker_0": True, "walker_1": True, "scout_0": True, "__all__": True}
        assert not any(truncateds.values())
        with pytest.raises(ResetNeeded):
            env.step({})


def test_a_masked_action_is_refused_naming_the_agent_and_changes_nothing(swarm_model):
    with open_swarm(swarm_model, agents=1, ticks=20, masks=True) as env:
        observations, _ = env.reset(seed=0)
        for _ in range(10):  # walk right until stepping right is masked
            mask = observations["walker_0"]["action_mask"]
            if not mask[2]:
                break
            observations, *_ = env.step({"walker_0": 2})
        assert observations["walker_0"]["action_mask"].tolist() == [1.0, 1.0, 0.0]
        position = observations["walker_0"]["observations"][0]
        with pytest.raises(ValueError, match=r"the action of agent walker_0 is masked: 2 is not valid now; "
                                             r"the valid actions are 0, 1"):
            env.step({"walker_0": 2})
        observations, *_ = env.step({"walker_0": 1})  # the episode goes on where it was
        assert observations["walker_0"]["observations"][0] == position


def test_a_multi_discrete_masked_entry_is_refused(swarm_model):
    with open_swarm(swarm_model, agents=1, scouts=1) as env:
        env.reset(seed=0)
        with pytest.raises(ValueError, match=r"agent scout_0 is masked: entry 1 is 2, .*valid choices are 0, 1"):
            env.step({"walker_0": 1, "scout_0": np.array([1, 2])})


def test_actions_outside_the_space_or_for_the_wrong_agents_are_refused(swarm_model):
    with open_swarm(swarm_model, agents=2) as env:
        env.reset(seed=0)
        with pytest.raises(ValueError, match=r"agent walker_1 is not in its action space Discrete\(3\)"):
            env.step({"walker_0": 1, "walker_1": 3})
        with pytest.raises(ValueError, match=r"no action for agents walker_1"):
            env.step({"walker_0": 1})
        with pytest.raises(ValueError, match=r"actions for agents walker_9, which do not wait"):
            env.step({"walker_0": 1, "walker_1": 1, "walker_9": 1})
        with pytest.raises(ValueError, match=r"the action of agent walker_0: .*not an integer"):
            env.step({"walker_0": "left", "walker_1": 1})
        observations, *_ = env.step({"walker_0": 1, "walker_1": 1})
        assert sorted(observations) == ["walker_0", "walker_1"]


def test_a_seed_replays_the_episode(swarm_model):
    def episode(env, seed):
        observations, _ = env.reset(seed=seed)
        trajectory = [sorted((a, o["observations"].tolist()) for a, o in observations.items())]
        while True:
            observations, rewards, _, truncateds, _ = env.step(walker_actions(env, observations))
            trajectory.append(sorted((a, o["observations"].tolist(), rewards[a]) for a, o in observations.items()))
            if truncateds["__all__"]:
                return trajectory

    with open_swarm(swarm_model, agents=6, ticks=3) as env:
        first = episode(env, 11)
        assert episode(env, 12) != first
        assert episode(env, 11) == first


def test_more_agents_than_a_crossing_holds_take_more_steps_and_the_end_must_fit(swarm_model):
    with open_swarm(swarm_model, agents=3, ticks=1, max_agents=2) as env:
        observations, _ = env.reset(seed=0)
        assert sorted(observations) == ["walker_0", "walker_1"]
        observations, *_ = env.step(walker_actions(env, observations))
        assert sorted(observations) == ["walker_2"]  # the same tick, the rest of its agents
        with pytest.raises(ModelError, match=r"3 agents are in the episode at its end, but a crossing holds 2; "
                                             r"open the model with AnyLogicMultiAgentEnv\(max_agents=...\)"):
            env.step(walker_actions(env, observations))


@pytest.mark.parametrize("misbehaviour, message", [
    ("short observation", r"getObservation\(\) of agent walker_0 returned 1 values, but the observation space of its "
                          r"type is Box\(.*\(2 values\)"),
    ("empty mask", r"getActionMask\(\) of agent walker_0 allows no choice of its action space Discrete\(3\)"),
])
def test_mistakes_of_an_agent_name_it(swarm_model, misbehaviour, message):
    with open_swarm(swarm_model, misbehave=misbehaviour) as env:
        with pytest.raises(ModelError, match=message):
            env.reset(seed=0)


def test_a_run_that_ends_with_requests_waiting_for_decide_is_an_error(swarm_model):
    with open_swarm(swarm_model, misbehave="forget decide") as env:
        observations, _ = env.reset(seed=0)
        with pytest.raises(ModelError, match=r"the run ended while agents \[walker_0, walker_1, walker_2\] waited "
                                             r"for their actions: .*call connector.decide\(\)"):
            env.step(walker_actions(env, observations))


def test_each_environment_refuses_the_other_kind_of_model(swarm_model, cartpole_model):
    with pytest.raises(ModelLoadError, match="several deciding agents.*open it with alpyperl.AnyLogicMultiAgentEnv"):
        AnyLogicEnv(swarm_model)
    with pytest.raises(ModelLoadError, match="no multi-agent model.*Open a single-agent model with alpyperl.AnyLogicEnv"):
        AnyLogicMultiAgentEnv(cartpole_model)
