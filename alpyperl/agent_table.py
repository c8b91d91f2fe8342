"""The table in which the agents of one crossing of a multi-agent model travel: Python's side of
``com.alpyperl.connector.AgentTable``, its layout and the reading and writing of it.

Layout, for agent types whose largest observation, action and mask take ``O``, ``A`` and ``M``
values, and room for ``C`` agents:

- observation part: ``[count | C slots of (type, number, status, reward, observation (O), mask (M))]``,
  the first ``count`` slots used;
- action part: ``C slots of A values``, slot k for the agent in observation slot k.

A step of many agents costs little per agent because :class:`AgentTable` reads and writes each
agent type's slots with one numpy call (``block``), and works out once what depends only on which
agents cross (their ids, which slots hold which type: a :class:`_Crossing`), which is usually
what the previous crossing had.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .spaces import Codec, flat_size

__all__ = ["AgentTable", "TableLayout", "HEADER", "SLOT_HEAD", "DECIDES", "LEFT", "STOPPED"]

#: Slot statuses (``AgentTable.DECIDES``, ``TERMINATED``, ``TRUNCATED`` in Java).
DECIDES, LEFT, STOPPED = 0, 1, 2
#: Values before the first slot, and before a slot's observation.
HEADER, SLOT_HEAD = 1, 4
#: What an agent type's actions are, for writing a whole type's actions at once.
_ONE_INTEGER, _INTEGERS, _NUMBERS, _OTHER = range(4)


class TableLayout:
    """The table's sizes for some agent types and a capacity, and the two Box spaces that carry it."""

    def __init__(self, types: list, capacity: int):
        self.capacity = capacity
        self.observation_width = max(flat_size(t.model_observation_space) for t in types)
        self.action_width = max(flat_size(t.action_space) for t in types)
        self.mask_width = max(t.mask_size for t in types)
        self.slot_width = SLOT_HEAD + self.observation_width + self.mask_width
        inf = np.inf
        self.observation_space = spaces.Box(-inf, inf, (HEADER + capacity * self.slot_width,), np.float64)
        self.action_space = spaces.Box(-inf, inf, (capacity * self.action_width,), np.float64)


class _Group:
    """Some agents of one type in a crossing: their slots, and where they stand in the crossing."""

    __slots__ = ("type_index", "ids", "slot_list", "slots", "positions")

    def __init__(self, type_index: int, ids: list[str], slots: list[int], positions: list[int] | None):
        self.type_index = type_index
        self.ids = ids
        self.slot_list = slots
        #: A slice when the slots follow one another (no copy to read them), else an index array.
        self.slots: slice | np.ndarray = (slice(slots[0], slots[-1] + 1) if slots == list(range(slots[0], slots[-1] + 1))
                                          else np.array(slots, dtype=np.intp))
        #: Where the group's agents stand among all agents of the crossing; None if it is all of them, in order.
        self.positions = positions


def _groups(ids: list[str], types: list[int], slots: list[int]) -> list[_Group]:
    """The agents ``ids`` (of ``types``, in ``slots``) grouped by type, in the order the types first appear."""
    if not ids:
        return []
    if types.count(types[0]) == len(types):
        return [_Group(types[0], ids, slots, None)]
    by_type: dict[int, list[int]] = {}
    for position, type_index in enumerate(types):
        by_type.setdefault(type_index, []).append(position)
    return [_Group(type_index, [ids[p] for p in positions], [slots[p] for p in positions], positions)
            for type_index, positions in by_type.items()]


class _Crossing:
    """What depends only on which agents are in a crossing (their types and numbers, in slot order):
    worked out once, and used again as long as the same agents cross."""

    __slots__ = ("who", "ids", "types", "groups", "all_deciding", "none_done")

    def __init__(self, who: bytes, ids: list[str], types: list[int]):
        self.who = who
        self.ids = ids
        self.types = types
        slots = list(range(len(ids)))
        #: The slots by type, for reading (and writing, when all agents decide).
        self.groups = _groups(ids, types, slots)
        #: The agents that wait for an action when all of them decide, by id: (type, slot).
        self.all_deciding = dict(zip(ids, zip(types, slots)))
        #: Every agent of the crossing: not done (copied for ``terminateds`` and ``truncateds``).
        self.none_done = dict.fromkeys(ids, False)


class AgentTable:
    """Reads the agents of a crossing from the table in a model instance's row, and writes their
    actions into it.

    ``types`` are the model's agent types (with ``model_observation_space``, ``action_space``,
    ``mask_size`` and ``name``), ``row`` the instance's float64 row ``[action | observation | reward]``.
    """

    def __init__(self, types: list, layout: TableLayout, row: np.ndarray):
        self.types = types
        self.layout = layout
        actions_end = layout.capacity * layout.action_width
        self.actions = row[:actions_end].reshape(layout.capacity, layout.action_width)
        self.count = row[actions_end:actions_end + HEADER]
        self.slots = row[actions_end + HEADER:-1].reshape(layout.capacity, layout.slot_width)
        #: Per type: how its agents' observations are read, a block of slots at a time.
        self._block_readers = [self._block_reader(t) for t in types]
        #: Per type: what its actions are, and how many values they take.
        self._action_kinds = [_action_kind(t.action_space) for t in types]
        #: Agent ids by (type, number), made when first seen.
        self._ids: dict[tuple[int, int], str] = {}
        self._crossing = _Crossing(b"", [], [])
        #: The agents that waited at the last read, and their groups for writing (per type).
        self._asked: dict[str, tuple[int, int]] = {}
        self._asked_groups: list[_Group] = []
        #: Whether some agent was done at the last read.
        self._some_done = False
        #: Per type and slot, the writer of an action (for actions written one at a time).
        self._writers: dict[tuple[int, int], Callable[[Any], None]] = {}

    # ---- reading ------------------------------------------------------------------------------

    def read(self, episode_over: bool):
        """The agents now in the table: ``(observations, rewards, terminateds, truncateds, waiting,
        changed)``; ``waiting`` maps each agent that waits for an action to its (type, slot) (none
        once the episode is over); ``changed`` is False when the same agents as at the last read
        decide again and none was done then (so the agents in the episode are the same)."""
        count = int(self.count[0])
        table = self.slots[:count]
        last = self._crossing
        crossing = self._crossing_of(table)
        ids = crossing.ids
        rewards = dict(zip(ids, table[:, 3].tolist()))
        observations = self._observations(crossing, table)
        statuses = table[:, 2]
        some_done = bool(np.count_nonzero(statuses))
        if not some_done:  # every agent decides (the usual step)
            terminateds = crossing.none_done.copy()
            truncateds = crossing.none_done.copy()
            asked, groups = crossing.all_deciding, crossing.groups
        else:
            statuses = statuses.tolist()
            terminateds = {agent: status == LEFT for agent, status in zip(ids, statuses)}
            truncateds = {agent: status == STOPPED for agent, status in zip(ids, statuses)}
            deciding = [k for k, status in enumerate(statuses) if status == DECIDES]
            asked_ids = [ids[k] for k in deciding]
            asked_types = [crossing.types[k] for k in deciding]
            asked = dict(zip(asked_ids, zip(asked_types, deciding)))
            groups = _groups(asked_ids, asked_types, deciding)
        if episode_over:
            asked, groups = {}, []
        changed = some_done or self._some_done or crossing is not last
        self._asked, self._asked_groups, self._some_done = asked, groups, some_done
        return observations, rewards, terminateds, truncateds, asked, changed

    def _crossing_of(self, table: np.ndarray) -> _Crossing:
        """The crossing of the agents in ``table``: the last one if the same agents cross again."""
        who = table[:, :2].tobytes()  # the agents' types and numbers
        if who != self._crossing.who:
            types = table[:, 0].astype(np.intp).tolist()
            names = self._ids
            ids = [names.get(key) or self._name(*key) for key in zip(types, table[:, 1].astype(np.int64).tolist())]
            self._crossing = _Crossing(who, ids, types)
        return self._crossing

    def _name(self, type_index: int, number: int) -> str:
        """The id of agent ``number`` of the type ``type_index`` (remembered)."""
        agent = self._ids[(type_index, number)] = f"{self.types[type_index].name}_{number}"
        return agent

    def _observations(self, crossing: _Crossing, table: np.ndarray) -> dict[str, Any]:
        groups = crossing.groups
        if len(groups) == 1:  # one type: its observations are one block
            group = groups[0]
            return self._block_readers[group.type_index](table, group)
        by_agent = {}
        for group in groups:
            by_agent.update(self._block_readers[group.type_index](table, group))
        return {agent: by_agent[agent] for agent in crossing.ids}  # in the order of the crossing

    def _block_reader(self, kind) -> Callable[[np.ndarray, _Group], dict[str, Any]]:
        """What reads the observations of a group of agents of type ``kind`` from the table, by
        agent id: a new value per agent (a copy: later crossings overwrite the table)."""
        space = kind.model_observation_space
        end = SLOT_HEAD + flat_size(space)
        if isinstance(space, spaces.Discrete):
            def values(table, group):
                return table[group.slots, SLOT_HEAD].astype(np.int64)  # iterated: np.int64 values
        elif isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
            dtype, shape = space.dtype, space.shape

            def values(table, group):
                block = table[group.slots, SLOT_HEAD:end].astype(dtype)  # iterated: a view of a row each
                return block if len(shape) == 1 else block.reshape((len(block),) + shape)
        else:  # Tuple and Dict: a reader per slot
            readers: dict[int, Callable[[], Any]] = {}

            def read_slot(k: int):
                read = readers.get(k)
                if read is None:
                    read = readers[k] = Codec(space, self.slots[k, SLOT_HEAD:end]).read
                return read()

            def values(table, group):
                return [read_slot(k) for k in group.slot_list]
        if not kind.mask_size:
            return lambda table, group: dict(zip(group.ids, values(table, group)))
        at = SLOT_HEAD + self.layout.observation_width
        mask_end = at + kind.mask_size

        def masked_observations(table, group):
            masks = table[group.slots, at:mask_end].astype(np.float32)
            return {agent: {"action_mask": mask, "observations": observation}
                    for agent, mask, observation in zip(group.ids, masks, values(table, group))}

        return masked_observations

    # ---- writing ------------------------------------------------------------------------------

    def write(self, action_dict: Mapping[str, Any], asked: Mapping[str, tuple[int, int]]) -> None:
        """Writes one action per agent of ``asked`` (the waiting agents, as :meth:`read` returned
        them) into the table. Raises ``ValueError`` naming the agents when some lack an action or do
        not wait, or naming the agent whose action does not fit its space's structure (values are
        checked in Java)."""
        if asked is not self._asked:
            slots = list(asked.values())
            self._asked = asked
            self._asked_groups = _groups(list(asked), [t for t, _ in slots], [k for _, k in slots])
        groups = self._asked_groups
        if len(groups) == 1 and list(action_dict) == groups[0].ids:  # the usual: all of one type, in slot order
            self._write_group(groups[0], list(action_dict.values()))
            return
        if action_dict.keys() != asked.keys():
            raise ValueError(_wrong_agents(asked, action_dict))
        for group in groups:
            self._write_group(group, [action_dict[agent] for agent in group.ids])

    def _write_group(self, group: _Group, values: list) -> None:
        """Writes the actions ``values`` of ``group``'s agents: with one numpy call if they all have the
        structure the type's space asks for, else one at a time (naming the first agent whose does not)."""
        kind, shape, size = self._action_kinds[group.type_index]
        if kind != _OTHER:
            try:
                array = np.asarray(values)
            except (TypeError, ValueError):  # ragged, or no numbers
                array = None
            if array is not None and array.shape == (len(values),) + shape and array.dtype.kind in _KINDS[kind]:
                if kind == _ONE_INTEGER:
                    self.actions[group.slots, 0] = array
                else:
                    self.actions[group.slots, :size] = array.reshape(len(values), size)
                return
        for agent, slot, action in zip(group.ids, group.slot_list, values):
            self._write_one(agent, (group.type_index, slot), action)

    def _write_one(self, agent: str, slot: tuple[int, int], action: Any) -> None:
        writer = self._writers.get(slot)
        if writer is None:
            type_index, k = slot
            space = self.types[type_index].action_space
            writer = self._writers[slot] = Codec(space, self.actions[k, :flat_size(space)], "action",
                                                 check_values=False).write
        try:
            writer(action)
        except ValueError as error:
            raise ValueError(f"the action of agent {agent}: {error}") from None


#: The numpy kinds of values each kind of action space takes (as its Codec writer does).
_KINDS = {_ONE_INTEGER: "iu", _INTEGERS: "iub", _NUMBERS: "biuf"}


def _action_kind(space: gym.Space) -> tuple[int, tuple[int, ...], int]:
    """What an action of ``space`` is for writing many at once: its kind, shape and flat size."""
    if isinstance(space, spaces.Discrete):
        return _ONE_INTEGER, (), 1
    if isinstance(space, (spaces.MultiDiscrete, spaces.MultiBinary)):
        return _INTEGERS, tuple(space.shape), flat_size(space)
    if isinstance(space, spaces.Box):
        return _NUMBERS, tuple(space.shape), flat_size(space)
    return _OTHER, (), flat_size(space)


def _wrong_agents(asked: Mapping[str, Any], action_dict: Mapping[str, Any]) -> str:
    missing = sorted(set(asked) - set(action_dict))
    extra = sorted(set(action_dict) - set(asked), key=str)
    problems = []
    if missing:
        problems.append(f"no action for {some_agents(missing)}")
    if extra:
        problems.append(f"actions for {some_agents(extra)}, which do not wait for one")
    return (f"step() needs one action for each agent that waits for one ({some_agents(sorted(asked))}): "
            + "; ".join(problems))


def some_agents(agents: list[str]) -> str:
    """Agent ids for a message: all of a few, the first ones of many."""
    shown = ", ".join(map(str, agents[:8]))
    return (f"agents {shown}" + (f" and {len(agents) - 8} more" if len(agents) > 8 else "")) if agents else "no agent"
