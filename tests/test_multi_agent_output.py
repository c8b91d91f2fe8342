"""What a multi-agent model prints and throws names the agent (tests/models' SwarmModel): lines printed
in an agent's methods are labelled with its id (log and folder), the root's lines are not, and an
exception thrown in an agent's method names the agent and the method."""

from __future__ import annotations

import logging
import re

import pytest
from test_multi_agent import swarm_model, walker_actions  # noqa: F401 (a fixture)

from alpyperl import AnyLogicMultiAgentEnv, ModelError


def two_steps(env):
    observations, _ = env.reset(seed=0)
    for _ in range(2):
        observations, *_ = env.step(walker_actions(env, observations))


def test_lines_printed_in_an_agents_methods_name_it_in_the_log(swarm_model, caplog):
    caplog.set_level(logging.INFO, logger="alpyperl.model")
    with AnyLogicMultiAgentEnv(model=swarm_model, env_params={"agents": 2, "talk": True}) as env:
        label = env.instance_label
        two_steps(env)
    records = [record for record in caplog.records if record.name == "alpyperl.model"]
    messages = [record.getMessage() for record in records]
    assert f"[{label}, walker_0] moving by 1" in messages or f"[{label}, walker_0] moving by -1" in messages, messages
    moving = [r for r in records if "moving by" in r.getMessage()]  # print() and println() are one line
    assert {r.model_agent for r in moving} == {"walker_0", "walker_1"}
    assert all(r.model_instance == label and r.levelno == logging.INFO for r in moving)
    observed = [r for r in records if "observed at" in r.getMessage()]
    assert observed and all(r.levelno == logging.WARNING and r.model_stream == "stderr" for r in observed)
    assert all(re.fullmatch(rf"\[{re.escape(label)}, walker_[01]\] observed at -?\d+", r.getMessage()) for r in observed)
    root = [r for r in records if "decided" in r.getMessage()]
    assert [r.getMessage() for r in root][:2] == [f"[{label}] tick 0 decided", f"[{label}] tick 1 decided"]
    assert all(r.model_agent is None for r in root)


def test_a_folder_of_output_labels_the_agents_lines(swarm_model, tmp_path):
    with AnyLogicMultiAgentEnv(model=swarm_model, env_params={"agents": 1, "talk": True},
                               model_output=tmp_path / "output") as env:
        two_steps(env)
    [log] = (tmp_path / "output").iterdir()
    lines = log.read_text().splitlines()
    assert "tick 0 decided" in lines
    assert any(re.fullmatch(r"\[walker_0\] moving by -?\d", line) for line in lines), lines
    assert any(re.fullmatch(r"\[walker_0\] observed at -?\d+", line) for line in lines), lines


def test_an_exception_in_an_agents_method_names_the_agent_and_the_method(swarm_model):
    with AnyLogicMultiAgentEnv(model=swarm_model, env_params={"agents": 3, "misbehave": "throw in takeAction"},
                               model_output="off") as env:
        observations, _ = env.reset(seed=0)
        observations, *_ = env.step(walker_actions(env, observations))
        with pytest.raises(ModelError, match=r"takeAction\(\) of agent walker_1 threw java.lang.IllegalStateException: "
                                             r"walker_1 cannot move"):
            env.step(walker_actions(env, observations))
