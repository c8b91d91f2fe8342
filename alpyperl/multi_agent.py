"""``AnyLogicMultiAgentEnv``: a model with several deciding agents, as a multi-agent environment.

It follows RLlib's new-stack ``MultiAgentEnv`` API (dicts keyed by agent id; ``"__all__"`` in
``terminateds`` and ``truncateds``) without importing Ray; :mod:`alpyperl.rllib.multi_agent`
makes it an RLlib ``MultiAgentEnv``. In Java the model implements
``com.alpyperl.connector.MultiAgentModel`` and answers its agents with a ``MultiAgentConnector``
(see docs/multi-agent.md).

All agents that wait at a decision cross in one call, as one table in the float64 row the
model instance shares with Java (``com.alpyperl.connector.AgentTable`` is the same layout):

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
from gymnasium import spaces

from . import jvm, render
from .bridge import RUNNING, SEED_LIMIT, TERMINATED, TRUNCATED
from .errors import AlpyperlError, ModelLoadError, ResetNeeded
from .instances import ModelInstances
from .settings import DEFAULT_STEP_TIMEOUT, positive_int, resolve
from .spaces import Codec, flat_size, space_from_json

__all__ = ["AnyLogicMultiAgentEnv", "AgentType", "agent_type", "DEFAULT_MAX_AGENTS"]

#: How many agents one crossing holds by default (``max_agents``).
DEFAULT_MAX_AGENTS = 128
#: Slot statuses (``AgentTable.DECIDES``, ``TERMINATED``, ``TRUNCATED``).
DECIDES, LEFT, STOPPED = 0, 1, 2
#: Values before the first slot, and before a slot's observation.
HEADER, SLOT_HEAD = 1, 4


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
        self.mask_size = _mask_size(name, action_space) if action_mask else 0
        #: The observation space of the type's agents in Python.
        self.observation_space: gym.Space = observation_space if not action_mask else spaces.Dict({
            "action_mask": spaces.Box(0.0, 1.0, (self.mask_size,), np.float32),
            "observations": observation_space,
        })

    def __repr__(self) -> str:
        return f"AgentType({self.name!r}, {self.observation_space}, {self.action_space})"


def _mask_size(name: str, action_space: gym.Space) -> int:
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    if isinstance(action_space, spaces.MultiDiscrete):
        return int(action_space.nvec.sum())
    raise AlpyperlError(f"agent type {name!r} uses an action mask, but its action space {action_space} is neither "
                        "Discrete nor MultiDiscrete")


def agent_types_of(described: Mapping[str, Any]) -> list[AgentType]:
    """The agent types a model described (``describeModel``'s ``agents``)."""
    return [AgentType(str(t["name"]), space_from_json(json.dumps(t["observation_space"])),
                      space_from_json(json.dumps(t["action_space"])), bool(t["action_mask"]),
                      int(t.get("possible_agents", 0)))
            for t in described["types"]]


class _Layout:
    """The table's sizes for some agent types and a capacity, and the two Box spaces that carry it."""

    def __init__(self, types: list[AgentType], capacity: int):
        self.capacity = capacity
        self.observation_width = max(flat_size(t.model_observation_space) for t in types)
        self.action_width = max(flat_size(t.action_space) for t in types)
        self.mask_width = max(t.mask_size for t in types)
        self.slot_width = SLOT_HEAD + self.observation_width + self.mask_width
        inf = np.inf
        self.observation_space = spaces.Box(-inf, inf, (HEADER + capacity * self.slot_width,), np.float64)
        self.action_space = spaces.Box(-inf, inf, (capacity * self.action_width,), np.float64)


class AnyLogicMultiAgentEnv:
    """A model with several deciding agents, with RLlib's multi-agent API.

    Args:
        model: the model's folder; its model class implements ``com.alpyperl.connector.MultiAgentModel``.
        max_agents: how many agents one crossing holds (default 128): at least the number of
            agents in an episode at once (its end reports all of them); decisions of more agents at
            one time take more than one step.
        env_params, step_timeout, jvm_options, debug_port, debug_suspend, model_output,
        model_threads: as for :class:`~alpyperl.AnyLogicEnv`.
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
        step_timeout: float = DEFAULT_STEP_TIMEOUT,
        jvm_options: Sequence[str] = (),
        debug_port: int | None = None,
        debug_suspend: bool = False,
        model_output: str | os.PathLike | None = "log",
        model_threads: str = "auto",
        render_mode: str | None = None,
        render_size: tuple[int, int] = render.DEFAULT_SIZE,
        render_fps: float = 30,
    ):
        settings = resolve(config, dict(
            model=model, env_params=env_params, max_agents=max_agents, step_timeout=step_timeout,
            jvm_options=jvm_options, debug_port=debug_port, debug_suspend=debug_suspend, model_output=model_output,
            model_threads=model_threads, observation_space=None, action_space=None, render_mode=render_mode,
            render_size=render_size, render_fps=render_fps))
        if not positive_int(settings["max_agents"]):
            raise ValueError(f"max_agents must be a positive integer, got {settings['max_agents']!r}")
        self.render_mode, self.render_size, fps = render.check_settings(
            settings["render_mode"], settings["render_size"], settings["render_fps"])
        self.metadata = {**self.metadata, "render_fps": fps}
        self._window: render.Window | None = None
        self.settings: dict[str, Any] = settings
        self.model_path = os.fspath(settings["model"])
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
        layout = self._layout
        row = instances.rows[0]
        actions_end = layout.capacity * layout.action_width
        self._actions = row[:actions_end].reshape(layout.capacity, layout.action_width)
        self._count = row[actions_end:actions_end + HEADER]
        self._slots = row[actions_end + HEADER:-1].reshape(layout.capacity, layout.slot_width)
        self._statuses = instances.statuses
        #: The types whose action is one integer (Discrete), and whether all waiting agents are of them.
        self._discrete_types = {i for i, t in enumerate(self._types) if isinstance(t.action_space, spaces.Discrete)}
        self._asked_discrete = False
        #: Whether some agent of the last crossing is done (left, or the episode ended).
        self._some_done = False
        #: Per type: where its observation and its mask end in a slot.
        self._block_ends = [(SLOT_HEAD + flat_size(t.model_observation_space),
                             SLOT_HEAD + layout.observation_width + t.mask_size) for t in self._types]
        #: The agents of the last crossing: their types and numbers as bytes, their ids, types and slots.
        self._last_who, self._last_ids, self._last_types, self._last_slots = b"", [], [], None
        #: Per type and slot, the reader of an observation and the writer of an action (made when first needed).
        self._readers: dict[tuple[int, int], Any] = {}
        self._writers: dict[tuple[int, int], Any] = {}
        self._ids: dict[tuple[int, int], str] = {}
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
            raise ModelLoadError(
                f"the model in {self.model_path} is no multi-agent model: its model class does not implement "
                "com.alpyperl.connector.MultiAgentModel (or creates no MultiAgentConnector). Open a single-agent "
                "model with alpyperl.AnyLogicEnv"
            )
        #: The agent types by name, in the model's order.
        self.agent_types: dict[str, AgentType] = {t.name: t for t in agent_types_of(described["agents"])}
        self._types = list(self.agent_types.values())
        self._layout = _Layout(self._types, int(self.settings["max_agents"]))
        return self._layout.observation_space, self._layout.action_space

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
        if not isinstance(action_dict, Mapping):
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
        if self._some_done or len(observations) != len(self._known) or not self._known.issuperset(observations):
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
        asked = self._asked
        if len(action_dict) != len(asked) or not all(agent in asked for agent in action_dict):
            missing = sorted(set(asked) - set(action_dict))
            extra = sorted(set(action_dict) - set(asked), key=str)
            problems = []
            if missing:
                problems.append(f"no action for {_some(missing)}")
            if extra:
                problems.append(f"actions for {_some(extra)}, which do not wait for one")
            raise ValueError(f"step() needs one action for each agent that waits for one ({_some(sorted(asked))}): "
                             + "; ".join(problems))
        if self._asked_discrete:  # every waiting agent's action is one integer: one vectorized write for all
            values = np.asarray(list(action_dict.values()))
            if values.dtype.kind in "iu" and values.shape == (len(action_dict),):
                agents = list(action_dict)
                if agents != self._last_ids:  # not in the order of the observations: each agent's slot
                    self._actions[[asked[agent][1] for agent in agents], 0] = values
                else:
                    if self._last_slots is None:
                        self._last_slots = np.array([asked[agent][1] for agent in agents], dtype=np.intp)
                    self._actions[self._last_slots, 0] = values
                return
        for agent, action in action_dict.items():  # other spaces, or a value that is no integer (named below)
            slot = asked[agent]
            writer = self._writers.get(slot)
            if writer is None:
                writer = self._writers[slot] = self._writer(*slot)
            try:
                writer(action)
            except ValueError as error:
                raise ValueError(f"the action of agent {agent}: {error}") from None

    def _writer(self, type_index: int, k: int):
        action_space = self._types[type_index].action_space
        return Codec(action_space, self._actions[k, :flat_size(action_space)], "action", check_values=False).write

    def _read_table(self):
        """The agents of the crossing now in the table: observations, rewards, terminateds, truncateds."""
        count = int(self._count[0])
        table = self._slots[:count]
        who = table[:, :2].tobytes()  # the agents' types and numbers: usually those of the last crossing
        if who == self._last_who:
            ids, types = self._last_ids, self._last_types
        else:
            types = table[:, 0].astype(np.intp).tolist()
            names = self._ids
            ids = [names.get(key) or self._name(*key) for key in zip(types, table[:, 1].astype(np.int64).tolist())]
            self._last_who, self._last_ids, self._last_types, self._last_slots = who, ids, types, None
        rewards = dict(zip(ids, table[:, 3].tolist()))
        if count and types.count(types[0]) == count:  # one type: its observations read as one block
            observations = dict(zip(ids, self._read_block(types[0], table)))
        else:
            observations = {agent: self._read_slot(type_index, k) for k, (agent, type_index) in enumerate(zip(ids, types))}
        statuses = table[:, 2]
        self._some_done = bool(statuses.any())
        if not self._some_done:  # every agent decides (the usual step)
            terminateds = dict.fromkeys(ids, False)
            truncateds = dict.fromkeys(ids, False)
            asked = dict(zip(ids, zip(types, range(count))))
        else:
            statuses = statuses.tolist()
            terminateds = {agent: status == LEFT for agent, status in zip(ids, statuses)}
            truncateds = {agent: status == STOPPED for agent, status in zip(ids, statuses)}
            asked = {agent: (type_index, k) for k, (agent, type_index, status) in enumerate(zip(ids, types, statuses))
                     if status == DECIDES}
        self._asked = asked if not self._episode_over else {}
        self._asked_discrete = self._discrete_types.issuperset(types)
        return observations, rewards, terminateds, truncateds

    def _name(self, type_index: int, number: int) -> str:
        """The id of agent ``number`` of the type ``type_index`` (remembered)."""
        agent = self._ids[(type_index, number)] = f"{self._types[type_index].name}_{number}"
        return agent

    def _read_block(self, type_index: int, table: np.ndarray) -> list:
        """The observations of all slots of ``table``, whose agents are all of type ``type_index``."""
        kind = self._types[type_index]
        space = kind.model_observation_space
        if not isinstance(space, spaces.Box):
            return [self._read_slot(type_index, k) for k in range(len(table))]
        end, mask_end = self._block_ends[type_index]
        block = table[:, SLOT_HEAD:end].astype(space.dtype)
        if len(space.shape) != 1:
            block = block.reshape((len(table),) + space.shape)
        if not kind.mask_size:
            return list(block)
        masks = table[:, SLOT_HEAD + self._layout.observation_width:mask_end].astype(np.float32)
        return [{"action_mask": mask, "observations": observation} for mask, observation in zip(list(masks), list(block))]

    def _read_slot(self, type_index: int, k: int):
        """The observation in slot ``k``, of an agent of type ``type_index``."""
        read = self._readers.get((type_index, k))
        if read is None:
            read = self._readers[(type_index, k)] = self._reader(type_index, k)
        return read()

    def _reader(self, type_index: int, k: int):
        kind = self._types[type_index]
        slot = self._slots[k]
        observation = Codec(kind.model_observation_space,
                            slot[SLOT_HEAD:SLOT_HEAD + flat_size(kind.model_observation_space)]).read
        if not kind.mask_size:
            return observation
        at = SLOT_HEAD + self._layout.observation_width
        mask = slot[at:at + kind.mask_size]
        return lambda: {"action_mask": mask.astype(np.float32), "observations": observation()}

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
        if self.render_mode is None:
            gym.logger.warn("render() returns nothing because the environment has no render_mode: create it with "
                            "render_mode='rgb_array' (frames as arrays) or 'human' (a window)")
            return None
        frame = self._draw()
        if self._window is not None:
            self._window.show(frame)
            return None
        return frame

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


def _some(agents: list[str]) -> str:
    """Agent ids for a message: all of a few, the first ones of many."""
    shown = ", ".join(map(str, agents[:8]))
    return (f"agents {shown}" + (f" and {len(agents) - 8} more" if len(agents) > 8 else "")) if agents else "no agent"
