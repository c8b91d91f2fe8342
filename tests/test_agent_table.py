"""The agent table read and written in Python (alpyperl/agent_table.py), without a model: the
table is filled here as the connector's AgentTable fills it, so that every kind of observation and
action space, crossings of several types and agents that are done can be checked value by value."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from alpyperl.agent_table import DECIDES, HEADER, LEFT, SLOT_HEAD, STOPPED, AgentTable, TableLayout
from alpyperl.multi_agent import AgentType, agent_type

ROBOT = AgentType("robot", spaces.Box(-10, 10, (2, 2), np.float32), spaces.Box(-1, 1, (2,), np.float32), False)
MACHINE = AgentType("machine", spaces.Box(0, 5, (3,), np.float32), spaces.Discrete(4), True)
CRANE = AgentType("crane", spaces.Discrete(6), spaces.MultiDiscrete([2, 3]), True)
GATE = AgentType("gate", spaces.Dict({"open": spaces.Discrete(2), "queue": spaces.Box(0, 9, (2,), np.float64)}),
                 spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3))), False)
TYPES = [ROBOT, MACHINE, CRANE, GATE]
BY_NAME = {t.name: t for t in TYPES}


class Table:
    """An AgentTable over a row of its own, and a way to fill the row as the connector does."""

    def __init__(self, capacity: int = 8):
        self.layout = TableLayout(TYPES, capacity)
        actions = capacity * self.layout.action_width
        self.row = np.zeros(actions + HEADER + capacity * self.layout.slot_width + 1)
        self.table = AgentTable(TYPES, self.layout, self.row)
        self.slots = self.row[actions + HEADER:-1].reshape(capacity, self.layout.slot_width)
        self.count = self.row[actions:actions + HEADER]

    def fill(self, *agents: tuple[int, int, int, float, list, list | None]) -> None:
        """Slots of (type, number, status, reward, flat observation, mask or None)."""
        self.slots[:] = np.nan  # what a slot holds beyond its agent's values must never be read
        self.count[0] = len(agents)
        for k, (type_index, number, status, reward, observation, mask) in enumerate(agents):
            self.slots[k, :SLOT_HEAD] = type_index, number, status, reward
            self.slots[k, SLOT_HEAD:SLOT_HEAD + len(observation)] = observation
            if mask is not None:
                at = SLOT_HEAD + self.layout.observation_width
                self.slots[k, at:at + len(mask)] = mask


def test_the_layout_has_room_for_the_widest_type():
    layout = TableLayout(TYPES, 6)
    assert (layout.observation_width, layout.action_width, layout.mask_width) == (4, 2, 5)
    assert layout.slot_width == SLOT_HEAD + 4 + 5
    assert layout.observation_space.shape == (HEADER + 6 * layout.slot_width,)
    assert layout.action_space.shape == (6 * 2,)


def test_each_type_is_read_as_its_space_says_in_the_order_of_the_crossing():
    t = Table()
    t.fill((1, 0, DECIDES, 0.5, [1, 2, 3], [1, 0, 1, 1]),
           (0, 7, DECIDES, -1.0, [1, 2, 3, 4], None),
           (2, 3, DECIDES, 2.0, [5], [0, 1, 1, 1, 0]),
           (1, 2, DECIDES, 0.0, [3, 2, 1], [0, 0, 0, 1]),
           (3, 1, DECIDES, 1.5, [1, 4, 5], None))
    observations, rewards, terminateds, truncateds, waiting, changed = t.table.read(False)
    assert list(observations) == ["machine_0", "robot_7", "crane_3", "machine_2", "gate_1"]
    assert rewards == {"machine_0": 0.5, "robot_7": -1.0, "crane_3": 2.0, "machine_2": 0.0, "gate_1": 1.5}
    machine = observations["machine_2"]
    assert machine["observations"].dtype == np.float32 and machine["observations"].tolist() == [3, 2, 1]
    assert machine["action_mask"].dtype == np.float32 and machine["action_mask"].tolist() == [0, 0, 0, 1]
    assert observations["machine_0"]["action_mask"].tolist() == [1, 0, 1, 1]
    robot = observations["robot_7"]
    assert robot.shape == (2, 2) and robot.dtype == np.float32 and robot.tolist() == [[1, 2], [3, 4]]
    crane = observations["crane_3"]
    assert crane["observations"] == 5 and isinstance(crane["observations"], np.int64)
    assert crane["action_mask"].tolist() == [0, 1, 1, 1, 0]
    gate = observations["gate_1"]
    assert gate["open"] == 1 and gate["queue"].tolist() == [4.0, 5.0] and gate["queue"].dtype == np.float64
    for agent, value in observations.items():
        assert value in BY_NAME[agent_type(agent)].observation_space
    assert terminateds == truncateds == dict.fromkeys(observations, False)
    assert waiting == {"machine_0": (1, 0), "robot_7": (0, 1), "crane_3": (2, 2), "machine_2": (1, 3), "gate_1": (3, 4)}
    assert changed


def test_observations_are_copies_that_later_crossings_do_not_change():
    t = Table()
    t.fill((1, 0, DECIDES, 0, [1, 2, 3], [1, 1, 1, 1]), (1, 1, DECIDES, 0, [4, 5, 6], [1, 1, 1, 1]))
    first, *_ = t.table.read(False)
    t.fill((1, 0, DECIDES, 0, [7, 7, 7], [0, 1, 1, 1]), (1, 1, DECIDES, 0, [8, 8, 8], [1, 0, 1, 1]))
    second, *_ = t.table.read(False)
    assert first["machine_0"]["observations"].tolist() == [1, 2, 3]
    assert first["machine_1"]["action_mask"].tolist() == [1, 1, 1, 1]
    assert second["machine_1"]["observations"].tolist() == [8, 8, 8]
    for value in (*first.values(), *second.values()):
        assert not np.shares_memory(value["observations"], t.row)
        assert not np.shares_memory(value["action_mask"], t.row)


def test_the_same_agents_again_are_no_change_and_done_agents_are_reported():
    t = Table()
    deciding = [(1, 0, DECIDES, 0, [1, 2, 3], [1, 1, 1, 1]), (1, 4, DECIDES, 0, [1, 2, 3], [1, 1, 1, 1])]
    t.fill(*deciding)
    assert t.table.read(False)[5]  # the first crossing
    t.fill(*deciding)
    assert not t.table.read(False)[5]
    t.fill((1, 0, LEFT, 3, [1, 2, 3], [1, 1, 1, 1]), (1, 4, DECIDES, 0, [1, 2, 3], [1, 1, 1, 1]))
    observations, rewards, terminateds, truncateds, waiting, changed = t.table.read(False)
    assert terminateds == {"machine_0": True, "machine_4": False}
    assert truncateds == {"machine_0": False, "machine_4": False}
    assert waiting == {"machine_4": (1, 1)} and changed
    t.fill(*deciding)  # the same agents as two crossings ago, after one was done: the agents may differ
    assert t.table.read(False)[5]
    t.fill((1, 0, STOPPED, 0, [1, 2, 3], None), (1, 4, STOPPED, 0, [1, 2, 3], None))
    observations, rewards, terminateds, truncateds, waiting, changed = t.table.read(True)
    assert truncateds == {"machine_0": True, "machine_4": True} and not any(terminateds.values())
    assert waiting == {}


def write_crossing(t: Table) -> dict:
    t.fill((0, 0, DECIDES, 0, [0, 0, 0, 0], None), (1, 5, DECIDES, 0, [0, 0, 0], [1, 1, 1, 1]),
           (2, 1, DECIDES, 0, [0], [1] * 5), (1, 6, LEFT, 0, [0, 0, 0], None),
           (3, 0, DECIDES, 0, [0, 0, 0], None), (1, 2, DECIDES, 0, [0, 0, 0], [1, 1, 1, 1]),
           (2, 4, DECIDES, 0, [0], [1] * 5), (0, 3, DECIDES, 0, [0, 0, 0, 0], None))
    return t.table.read(False)[4]


def test_actions_of_each_type_land_in_their_agents_slots_in_any_order():
    t = Table()
    waiting = write_crossing(t)
    actions = {"machine_2": np.int64(3), "gate_0": (1, 2), "crane_1": np.array([1, 2]), "robot_3": [1, 0.75],
               "robot_0": np.array([0.5, -0.25], np.float32), "machine_5": 1, "crane_4": np.array([0, 1])}
    t.table.write(actions, waiting)
    written = t.table.actions
    assert written[0].tolist() == [0.5, -0.25] and written[7].tolist() == [1, 0.75]
    assert written[1, 0] == 1 and written[5, 0] == 3
    assert written[2].tolist() == [1, 2] and written[6].tolist() == [0, 1]
    assert written[4].tolist() == [1, 2]


def test_a_type_written_in_one_go_and_one_at_a_time_agree():
    t = Table()
    t.fill(*[(1, n, DECIDES, 0, [0, 0, 0], [1, 1, 1, 1]) for n in range(4)])
    waiting = t.table.read(False)[4]
    t.table.write({f"machine_{n}": n for n in range(4)}, waiting)  # in slot order: one numpy call
    assert t.table.actions[:4, 0].tolist() == [0, 1, 2, 3]
    t.table.write({f"machine_{n}": np.array([3 - n]) for n in (3, 1, 0, 2)}, waiting)  # (1,) arrays, any order
    assert t.table.actions[:4, 0].tolist() == [3, 2, 1, 0]


@pytest.mark.parametrize("action, message", [
    (1.0, r"the action of agent machine_2: action 1.0 is not an integer"),
    ("left", r"the action of agent machine_2: action 'left' is not an integer"),
    (np.array([1, 2]), r"the action of agent machine_2: action array\(\[1, 2\]\) is not an integer"),
])
def test_an_action_of_the_wrong_kind_names_its_agent(action, message):
    t = Table()
    waiting = write_crossing(t)
    actions = {"robot_0": [0, 0], "machine_5": 1, "crane_1": [0, 0], "gate_0": (0, 0), "machine_2": action,
               "crane_4": [0, 0], "robot_3": [0, 0]}
    with pytest.raises(ValueError, match=message):
        t.table.write(actions, waiting)
    with pytest.raises(ValueError, match=r"the action of agent crane_1: .*has shape \(3,\), not \(2,\)"):
        t.table.write({**actions, "machine_2": 1, "crane_1": [0, 0, 0]}, waiting)


def test_missing_and_extra_agents_are_named():
    t = Table()
    waiting = write_crossing(t)
    with pytest.raises(ValueError, match=r"no action for agents gate_0, machine_2; actions for agents machine_6, "
                                         r"which do not wait for one"):
        t.table.write({"robot_0": [0, 0], "machine_5": 1, "crane_1": [0, 0], "machine_6": 1, "crane_4": [0, 0],
                       "robot_3": [0, 0]}, waiting)
