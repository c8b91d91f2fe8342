"""``AnyLogicMultiAgentEnv``: a model with several deciding agents, as a multi-agent environment.

It follows RLlib's new-stack ``MultiAgentEnv`` API (dicts keyed by agent id; ``"__all__"`` in
``terminateds`` and ``truncateds``) without importing Ray; :mod:`alpyperl.rllib.multi_agent`
makes it an RLlib ``MultiAgentEnv``. In Java the model implements
``com.alpyperl.connector.MultiAgentModel`` and answers its agents with a ``MultiAgentConnector``
(see docs/multi-agent.md).

All agents that wait at a decision cross in one call, as one table in the float64 row the
model instance shares with Java (``com.alpyperl.connector.AgentTable`` is the same layout;
:mod:`alpyperl.agent_table` reads and writes it):

- observation part: ``[count | max_agents slots of (type, number, status, reward, observation (O), mask (M))]``,
  the first ``count`` slots used;
- action part: ``max_agents slots of A values``, slot k for the agent in observation slot k.

Agent ids are ``<type>_<number>`` (``machine_3``): :func:`agent_type` maps an id to its type, for
policy mapping by type. A type with an action mask gets RLlib's masking observation
``{"action_mask": Box(0, 1, (choices,)), "observations": <its space>}``.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Mapping
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from . import jvm, render
from .agent_table import AgentTable, TableLayout
from .bridge import RUNNING, SEED_LIMIT, TERMINATED, TRUNCATED
from .errors import AlpyperlError, ModelLoadError, ResetNeeded, SpaceDefinitionError
from .instances import ModelInstances, choose_space
from .masks import mask_size, masked_observation_space
from .settings import DEFAULT_ATTACH_TIMEOUT, DEFAULT_STEP_TIMEOUT, positive_int, resolve
from .spaces import space_from_json, space_to_json

__all__ = ["AnyLogicMultiAgentEnv", "AgentType", "agent_type", "DEFAULT_MAX_AGENTS"]

#: How many agents one crossing holds by default (``max_agents``).
DEFAULT_MAX_AGENTS = 128


def agent_type(agent_id: str) -> str:
    """The type of the agent ``agent_id`` (``"machine_3"`` -> ``"machine"``): a policy mapping by type."""
    kind, _, number = str(agent_id).rpartition("_")
    if not kind or not number.isdigit():
        raise ValueError(f"{agent_id!r} is not an agent id of a multi-agent model (<type>_<number>, e.g. machine_3)")
    return kind


class AgentType:
    """One agent type of a multi-agent model: its name, its spaces as the model defines them, and the
    observation space its agents have in Python (with the mask for a type that uses one)."""

    def __init__(self, name: str, observation_space: gym.Space, action_space: gym.Space, action_mask: bool,
                 possible_agents: int = 0):
        self.name = name
        #: How many agents of the type may take part in an episode (numbers 0 .. n-1); 0 if the model leaves it open.
        self.possible_agents = possible_agents
        #: The observation space the model defines for the type.
        self.model_observation_space = observation_space
        self.action_space = action_space
        #: How many choices the mask holds (0 without a mask).
        self.mask_size = mask_size(action_space, f"agent type {name!r}") if action_mask else 0
        #: The observation space of the type's agents in Python.
        self.observation_space: gym.Space = observation_space if not action_mask else masked_observation_space(
            observation_space, action_space, f"agent type {name!r}")

    def __repr__(self) -> str:
        return f"AgentType({self.name!r}, {self.observation_space}, {self.action_space})"


def agent_types_of(described: Mapping[str, Any], observation_spaces: Mapping[str, gym.Space] | None = None,
                   action_spaces: Mapping[str, gym.Space] | None = None) -> list[AgentType]:
    """The agent types a model described (``describeModel``'s ``agents``), each with the spaces the
    model defines or, where it returns null, those given in Python by type (``observation_spaces``,
    ``action_spaces``; see :func:`~alpyperl.instances.choose_space`)."""
    names = [str(t["name"]) for t in described["types"]]
    for kind, given in (("observation", observation_spaces), ("action", action_spaces)):
        if given is not None and not isinstance(given, Mapping):
            raise SpaceDefinitionError(f"{kind}_spaces must map agent type names to gymnasium spaces, got {given!r}")
        unknown = sorted(set(given or {}) - set(names), key=str)
        if unknown:
            raise SpaceDefinitionError(f"{kind}_spaces names agent types the model does not have: {unknown}; "
                                       f"its agent types are {names} (MultiAgentModel.getAgentTypes())")
    observation_spaces, action_spaces = observation_spaces or {}, action_spaces or {}
    return [AgentType(name, choose_space("observation", t["observation_space"], observation_spaces.get(name), name),
                      choose_space("action", t["action_space"], action_spaces.get(name), name),
                      bool(t["action_mask"]), int(t.get("possible_agents", 0)))
            for name, t in zip(names, described["types"])]


class AnyLogicMultiAgentEnv:
    """A model with several deciding agents, with RLlib's multi-agent API.

    Args:
        model: the model's folder; its model class implements ``com.alpyperl.connector.MultiAgentModel``.
        max_agents: how many agents one crossing holds (default 128): at least the number of
            agents in an episode at once (its end reports all of them); decisions of more agents at
            one time take more than one step.
        observation_spaces, action_spaces: spaces by agent type name, for the types whose
            ``getObservationSpace(type)`` / ``getActionSpace(type)`` return null in the model (a
            type's space given both here and in the model must be equal).
        env_params, step_timeout, jvm_options, debug_port, debug_suspend, model_output,
        model_threads: as for :class:`~alpyperl.AnyLogicEnv`.
        attach, attach_timeout: train a multi-agent model running in AnyLogic itself (its Run
            button), as :class:`~alpyperl.AnyLogicEnv` does a single-agent one: its
            ``MultiAgentConnector`` set to train (``attachToPython()``, ``-Dalpyperl.attach=true``)
            connects at its first ``decide()``; one message each way per crossing.
        render_mode, render_size, render_fps: as for :class:`~alpyperl.AnyLogicEnv`: the model (its
            root, which implements ``com.alpyperl.connector.Drawable``) draws the whole scene;
            :meth:`render` returns it (``"rgb_array"``) or shows it after each reset and step (``"human"``).

    The settings may also come as one mapping, as RLlib passes its ``env_config``.

    ``reset()`` returns ``(observations, infos)`` for the agents that decide first; each agent's
    info holds the episode's ``"seed"``. ``step(actions)`` takes one action per agent of the last
    observations (RLlib gives exactly those) and returns observations of the agents that decide
    next (and last observations of agents that are done), their rewards since their previous
    decision, ``terminateds`` and ``truncateds`` per agent plus ``"__all__"``, and infos. An action
    outside its agent's space, or one that its mask forbids, is refused with a ``ValueError``
    naming the agent, and changes nothing.
    """

    metadata = {"render_modes": list(render.RENDER_MODES), "render_fps": 30}

    def __init__(
        self,
        config: Mapping[str, Any] | str | os.PathLike | None = None,
        *,
        model: str | os.PathLike | None = None,
        env_params: Mapping[str, Any] | None = None,
        max_agents: int = DEFAULT_MAX_AGENTS,
        observation_spaces: Mapping[str, gym.Space] | None = None,
        action_spaces: Mapping[str, gym.Space] | None = None,
        step_timeout: float = DEFAULT_STEP_TIMEOUT,
        jvm_options: Sequence[str] = (),
        debug_port: int | None = None,
        debug_suspend: bool = False,
        model_output: str | os.PathLike | None = "log",
        model_threads: str = "auto",
        attach: bool | int = False,
        attach_timeout: float = DEFAULT_ATTACH_TIMEOUT,
        render_mode: str | None = None,
        render_size: tuple[int, int] = render.DEFAULT_SIZE,
        render_fps: float = 30,
    ):
        settings = resolve(config, dict(
            model=model, env_params=env_params, max_agents=max_agents, step_timeout=step_timeout,
            jvm_options=jvm_options, debug_port=debug_port, debug_suspend=debug_suspend, model_output=model_output,
            model_threads=model_threads, observation_space=None, action_space=None,
            observation_spaces=observation_spaces, action_spaces=action_spaces, attach=attach,
            attach_timeout=attach_timeout, render_mode=render_mode, render_size=render_size, render_fps=render_fps))
        if not positive_int(settings["max_agents"]):
            raise ValueError(f"max_agents must be a positive integer, got {settings['max_agents']!r}")
        self.render_mode, self.render_size, fps = render.check_settings(
            settings["render_mode"], settings["render_size"], settings["render_fps"])
        self.metadata = {**self.metadata, "render_fps": fps}
        self._window: render.Window | None = None
        self.settings: dict[str, Any] = settings
        #: The model's folder, or None for a model attached from AnyLogic.
        self.model_path = None if settings["model"] is None else os.fspath(settings["model"])
        self.episode_seed: int | None = None
        self._env_params: dict[str, Any] = dict(settings["env_params"] or {})
        self._np_random = np.random.default_rng()
        self._episode_over = True
        self._closer = None
        instances = ModelInstances(settings, 1, batched=False, spaces_of=self._table_spaces)
        self._instances = instances
        self._closer = weakref.finalize(self, instances.close)
        try:
            instances.set_parameters(self._env_params)
            if self.render_mode is not None:
                self._prepare_rendering()
        except BaseException:
            self.close()
            raise
        self.model_parameters = instances.parameter_names
        self.model_threads = instances.group.model_threads
        #: The table of the crossing, in the instance's row.
        self._table = AgentTable(self._types, self._layout, instances.rows[0])
        self._statuses = instances.statuses
        #: Whether the agents of the last crossing may differ from those of the one before (or some are done).
        self._agents_changed = True
        #: The agents of the last observations that wait for an action, by id: their slot.
        self._asked: dict[str, tuple[int, int]] = {}
        #: The agents active in the episode now (RLlib's ``agents``): joined, and not done yet.
        self.agents: list[str] = []
        #: Every agent that may take part, as the model declares (``MultiAgentModel.getPossibleAgents``);
        #: empty if it leaves that open for some type.
        self.possible_agents: list[str] = [] if any(not t.possible_agents for t in self._types) else [
            f"{t.name}_{number}" for t in self._types for number in range(t.possible_agents)]
        self._known: set[str] = set()

    def _prepare_rendering(self) -> None:
        """Checks that the model draws and allocates the frame buffer; in "human" mode opens the window
        and makes every step show its frame."""
        self._frames = render.Frames(self._instances.group, self.render_size, self.model_path, self.render_mode)
        if self.render_mode == "human":
            self._window = render.Window(f"alpyperl: {os.path.basename(os.path.abspath(self.model_path))}",
                                         self.render_size, self.metadata["render_fps"])
            self.step = self._step_and_show  # so that the other modes pay nothing per step

    # ---- spaces ---------------------------------------------------------------------------------

    def _table_spaces(self, described: dict) -> tuple[gym.Space, gym.Space]:
        """Reads the model's agent types and lays the table out (``ModelInstances``' ``spaces_of``)."""
        if described.get("agents") is None:
            where = f"in {self.model_path}" if self.model_path else f"attached from AnyLogic ({described.get('model')})"
            raise ModelLoadError(
                f"the model {where} is no multi-agent model: its model class does not implement "
                "com.alpyperl.connector.MultiAgentModel (or creates no MultiAgentConnector). Open a single-agent "
                "model with alpyperl.AnyLogicEnv"
            )
        #: The agent types by name, in the model's order.
        self.agent_types: dict[str, AgentType] = {t.name: t for t in agent_types_of(
            described["agents"], self.settings["observation_spaces"], self.settings["action_spaces"])}
        self._types = list(self.agent_types.values())
        self._layout = TableLayout(self._types, int(self.settings["max_agents"]))
        agreed = [{"observation_space": json.loads(space_to_json(t.model_observation_space)),
                   "action_space": json.loads(space_to_json(t.action_space))} for t in self._types]
        return self._layout.observation_space, self._layout.action_space, {"agent_types": agreed}

    @property
    def observation_spaces_by_type(self) -> dict[str, gym.Space]:
        """The observation space of each agent type, by type name."""
        return {name: t.observation_space for name, t in self.agent_types.items()}

    @property
    def action_spaces_by_type(self) -> dict[str, gym.Space]:
        """The action space of each agent type, by type name."""
        return {name: t.action_space for name, t in self.agent_types.items()}

    def get_observation_space(self, agent_id: str) -> gym.Space:
        """The observation space of agent ``agent_id`` (that of its type)."""
        return self._type_of(agent_id).observation_space

    def get_action_space(self, agent_id: str) -> gym.Space:
        """The action space of agent ``agent_id`` (that of its type)."""
        return self._type_of(agent_id).action_space

    def _type_of(self, agent_id: str) -> AgentType:
        name = agent_type(agent_id)
        if name not in self.agent_types:
            raise ValueError(f"agent {agent_id!r} has the type {name!r}, which the model does not define; its agent "
                             f"types are {sorted(self.agent_types)}")
        return self.agent_types[name]

    @property
    def env_params(self) -> dict[str, Any]:
        """The model parameters applied at each reset (a copy)."""
        return dict(self._env_params)

    @property
    def waiting_agents(self) -> list[str]:
        """The agents of the last observations that wait for an action (those ``step()`` needs one for)."""
        return list(self._asked)

    @property
    def instance_label(self) -> str:
        """The label of the model instance, as its printed lines show it (``JobShop#3``)."""
        return self._instances.output.labels[0]

    @property
    def max_agents(self) -> int:
        """How many agents one crossing holds."""
        return self._layout.capacity

    # ---- episodes -------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Starts a new episode (abandoning a running one) and returns ``(observations, infos)``
        of the agents that decide first; every info holds the episode's ``"seed"``.
        ``options={"env_params": {...}}`` updates model parameters from this episode on."""
        self._check_open()
        jvm.keep_jvm_signal_handlers()
        if seed is not None:
            self._np_random = np.random.default_rng(seed)
        self.episode_seed = None
        if options and "env_params" in options:
            updated = {**self._env_params, **options["env_params"]}
            self._instances.set_parameters(updated)
            self._env_params = updated
        episode_seed = int(seed) % SEED_LIMIT if seed is not None else int(self._np_random.integers(SEED_LIMIT - 1))
        if not self._instances.busy.acquire(False):
            raise self._instances.in_use("reset()")
        try:
            self._episode_over = True
            self._asked = {}
            self.episode_seed = episode_seed
            self._instances.commands[0] = episode_seed
            self._instances.run()
            self._episode_over = self._statuses[0] != RUNNING
            observations, _, _, _ = self._read_table()
        finally:
            self._instances.busy.release()
        self.agents = list(observations)
        self._known = set(observations)
        if self._window is not None:
            self._window.show(self._draw())
        info = {"seed": episode_seed}
        return observations, {agent: dict(info) for agent in observations}

    def step(self, action_dict: Mapping[str, Any]):
        """Applies one action per agent that waits for one, and runs the model to its next crossing;
        returns ``(observations, rewards, terminateds, truncateds, infos)``."""
        if self._episode_over:
            self._check_open()
            raise ResetNeeded("step() needs a running episode: the last one has ended (terminated, truncated or "
                              "failed) or none was started; call reset() first")
        if type(action_dict) is not dict and not isinstance(action_dict, Mapping):
            raise TypeError(f"step() takes a dict of agent id -> action, got {type(action_dict).__name__}")
        if not self._instances.busy.acquire(False):
            raise self._instances.in_use("step()")
        try:
            self._write_actions(action_dict)
            try:
                self._instances.run()
            except ValueError:
                raise  # an action refused in Java: nothing changed, the agents still wait
            except BaseException:
                self._episode_over = True
                raise
            status = self._statuses.item(0)
            self._episode_over = status != RUNNING
            observations, rewards, terminateds, truncateds = self._read_table()
        finally:
            self._instances.busy.release()
        terminateds["__all__"] = status == TERMINATED
        truncateds["__all__"] = status == TRUNCATED
        if self._agents_changed:
            self._follow_agents(observations, terminateds, truncateds)
        return observations, rewards, terminateds, truncateds, {}

    def _follow_agents(self, observations, terminateds, truncateds) -> None:
        """Keeps ``agents`` (RLlib: the agents active now) up to date: joined agents in, done agents out."""
        for agent in observations:
            if agent not in self._known:
                self._known.add(agent)
                self.agents.append(agent)
        done = {agent for agent in observations if terminateds[agent] or truncateds[agent]}
        if done:
            self._known -= done
            self.agents = [agent for agent in self.agents if agent not in done]

    def _write_actions(self, action_dict: Mapping[str, Any]) -> None:
        self._table.write(action_dict, self._asked)

    def _read_table(self):
        """The agents of the crossing now in the table: observations, rewards, terminateds, truncateds."""
        observations, rewards, terminateds, truncateds, self._asked, self._agents_changed = \
            self._table.read(self._episode_over)
        return observations, rewards, terminateds, truncateds

    # ---- rendering ------------------------------------------------------------------------------

    def _step_and_show(self, action_dict: Mapping[str, Any]):
        """``step()`` in "human" mode: steps, then shows the model's picture in the window."""
        result = type(self).step(self, action_dict)
        self._window.show(self._draw())
        return result

    def render(self):
        """The model's picture of its current state, as :meth:`alpyperl.AnyLogicEnv.render` gives it:
        an (H, W, 3) uint8 RGB array with ``render_mode="rgb_array"``; shown in the window (and None)
        with ``"human"``; None, with a warning, without a render_mode."""
        return render.render_now(self.render_mode, self._window, self._draw)

    def _draw(self) -> np.ndarray:
        self._check_open()
        return self._frames.draw(0)

    # ---- the rest of the environment ------------------------------------------------------------

    def set_parameters(self, env_params: Mapping[str, Any]) -> None:
        """Model parameters applied from the next reset on (the others keep their values)."""
        updated = {**self._env_params, **env_params}
        self._instances.set_parameters(updated)
        self._env_params = updated

    def __getstate__(self):
        raise TypeError("an AnyLogicMultiAgentEnv cannot be pickled or copied: its model runs in this process's JVM. "
                        "Pass its settings instead (env.settings)")

    def _check_open(self) -> None:
        if self._closer is None or not self._closer.alive:
            raise AlpyperlError("the environment is closed; create a new AnyLogicMultiAgentEnv")

    def close(self) -> None:
        """Ends the episode and the model's thread (and closes the window of render_mode="human").
        The environment cannot be used afterwards."""
        self._episode_over = True
        if self._window is not None:
            self._window.close()
        if self._closer is not None:
            self._closer()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
