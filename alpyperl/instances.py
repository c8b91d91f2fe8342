"""The model instances behind an environment: one or more instances of a model in this process's
JVM, the spaces they agreed on, the rows they share with Java, and the one call that
resets or steps them all. :class:`~alpyperl.AnyLogicEnv` is one instance,
:class:`~alpyperl.AnyLogicVectorEnv` many; both step through :meth:`ModelInstances.run`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from . import bridge
from .errors import AlpyperlError, ModelLoadError, SpaceDefinitionError
from .masks import masked_observation_space
from .output import InstancesOutput
from .settings import jvm_options_of, parameters_json
from .spaces import Codec, check_flat_size, flat_size, observation_reader, space_from_json, space_to_json

__all__ = ["ModelInstances", "choose_space"]


class ModelInstances:
    """``size`` instances of the model that ``settings`` names (see :mod:`alpyperl.settings`).

    Each instance has a float64 row of the shared buffer: ``[action | observation | reward]`` (an
    observation that crosses in float32 lies in the first half of its part: ``spaces.observation_part``).
    ``write_actions`` and ``read_observations`` take and give the actions and observations of all
    instances (batched as Gymnasium batches them), or of the one instance when ``batched`` is
    false. Actions are checked in Java, before any model runs (one validator for both
    environments); ``write_actions`` checks only what Java cannot see (types, shapes).
    ``spaces_of(described)``, if given, chooses the spaces from what the model said about itself
    (a multi-agent model's table, :mod:`alpyperl.multi_agent`) and returns them with members to add
    to the observation space's JSON that configures Java (the agent types' agreed spaces).
    """

    def __init__(self, settings: Mapping[str, Any], size: int, batched: bool,
                 spaces_of: Callable[[dict], tuple[gym.Space, gym.Space]] | None = None):
        if settings.get("attach"):
            from .attach import AttachedModel

            if isinstance(settings["attach"], AttachedModel):  # attached already (alpyperl run asked what it is)
                self.group = settings["attach"]
            else:
                port = 0 if settings["attach"] is True else settings["attach"]
                self.group = AttachedModel(port, settings["attach_timeout"])
        else:
            self.group = bridge.ModelGroup(os.fspath(settings["model"]), jvm_options_of(settings), size,
                                           settings["model_threads"], settings.get("parallelism"))
        self.output: InstancesOutput | None = None
        try:
            self.output = InstancesOutput(self.group, settings["model_output"])
            described = self.group.describe(settings["step_timeout"])
            self.output.drain()
            #: What the model said about itself (spaces, parameters, agent types: see ModelSession.describeModel).
            self.described: dict = described
            observation_extras: dict = {}
            if spaces_of is not None:  # a multi-agent model: its rows hold a table of agents
                self.observation_space, self.action_space, observation_extras = spaces_of(described)
            else:
                if described.get("agents") is not None:
                    raise ModelLoadError(
                        f"the model in {settings['model']} has several deciding agents (it implements "
                        "com.alpyperl.connector.MultiAgentModel); open it with alpyperl.AnyLogicMultiAgentEnv"
                    )
                self.observation_space = choose_space("observation", described["observation_space"],
                                                      settings["observation_space"])
                self.action_space = choose_space("action", described["action_space"], settings["action_space"])
                if described.get("action_mask"):  # a MaskedModel: its observation carries its action mask
                    self.observation_space = masked_observation_space(self.observation_space, self.action_space)
            #: The model's parameter names, or None if the model kind cannot tell before a run.
            self.parameter_names: list[str] | None = described["parameters"]
            actions, observations = flat_size(self.action_space), flat_size(self.observation_space)
            self.rows = np.zeros((size, actions + observations + 1), dtype=np.float64)
            observation_json = space_to_json(self.observation_space)
            if observation_extras:  # e.g. a multi-agent model's agreed agent type spaces ("agent_types")
                observation_json = json.dumps({**json.loads(observation_json), **observation_extras})
            self.group.configure(observation_json, space_to_json(self.action_space),
                                 float(settings["step_timeout"]), self.rows)
            rows = self.rows if batched else self.rows[0]
            self.write_actions = Codec(self.action_space, rows[..., :actions], "action", check_values=False).write
            self.read_observations = observation_reader(self.observation_space, rows[..., actions:-1])
            #: Per instance, what reads its observation alone (as an AnyLogicEnv returns it).
            self.observation_readers = [observation_reader(self.observation_space, row[actions:-1])
                                        for row in self.rows] if batched else [self.read_observations]
        except BaseException:
            self.close()
            raise
        self.rewards = self.rows[:, -1]
        self.commands, self.statuses = self.group.commands, self.group.statuses
        #: Held by the thread inside a reset or step: one thread at a time uses the instances.
        self.busy = threading.Lock()

    def run(self) -> int:
        """Carries out every instance's command (:data:`~alpyperl.bridge.STEP` or a seed) in one
        call into Java and returns the launcher's flags; logs what the models printed."""
        try:
            flags = self.group.step_all()
        except bridge.JavaException as error:
            raise self.failure(error) from None
        if flags & bridge.OUTPUT_WAITING:
            self.output.drain()
        return flags

    @staticmethod
    def in_use(call: str) -> AlpyperlError:
        """The error for a ``call`` made while another thread is inside a reset or step."""
        return AlpyperlError(
            f"{call} was called while another thread is inside reset() or step() of this environment: an "
            "environment is used by one thread at a time; give each thread an environment of its own"
        )

    def failure(self, error: Exception) -> Exception:
        """The Python exception for a failed :meth:`run` (ValueError for a refused action, which
        changed nothing), after logging what the models printed before they failed."""
        problem = bridge.translate(error)
        if not isinstance(problem, ValueError):
            self.output.drain()
        return problem

    def set_parameters(self, params: Mapping[str, Any]) -> None:
        """Model parameters for every instance, applied from the next reset on."""
        self.group.set_parameters(parameters_json(params))

    def close(self) -> None:
        """Ends the episodes and model threads, then logs what the models printed last."""
        self.group.close()
        if self.output is not None:
            self.output.drain()


def choose_space(kind: str, from_model: dict | None, from_python: gym.Space | None,
                 agent_type: str | None = None) -> gym.Space:
    """The one definition of a space: the model's (as JSON) or Python's; both or neither is an error.
    For an ``agent_type`` of a multi-agent model both may be given if they are equal."""
    if agent_type is not None:
        return _choose_type_space(kind, from_model, from_python, agent_type)
    if from_model is not None and from_python is not None:
        raise SpaceDefinitionError(
            f"the {kind} space is defined both in the model ({space_from_json(json.dumps(from_model))}) and in "
            f"Python ({from_python}); define it in one place only: remove {kind}_space=... or make the model's "
            f"get{kind.capitalize()}Space() return null"
        )
    if from_model is not None:
        return space_from_json(json.dumps(from_model))
    if from_python is None:
        raise SpaceDefinitionError(
            f"the {kind} space is defined neither in the model (its get{kind.capitalize()}Space() returns null) "
            f"nor in Python (pass {kind}_space=... to AnyLogicEnv)"
        )
    if not isinstance(from_python, gym.Space):
        raise SpaceDefinitionError(f"{kind}_space must be a gymnasium space, got {from_python!r}")
    check_flat_size(from_python, f"the {kind} space")
    space_to_json(from_python)  # refuses unsupported spaces with a clear message
    return from_python


def _choose_type_space(kind: str, from_model: dict | None, from_python: gym.Space | None, agent_type: str) -> gym.Space:
    """:func:`choose_space` for an agent type of a multi-agent model."""
    getter = f'get{kind.capitalize()}Space("{agent_type}")'
    argument = f"{kind}_spaces={{{agent_type!r}: ...}}"
    if from_python is not None:
        if not isinstance(from_python, gym.Space):
            raise SpaceDefinitionError(f"{kind}_spaces[{agent_type!r}] must be a gymnasium space, got {from_python!r}")
        check_flat_size(from_python, f"the {kind} space of agent type {agent_type!r}")
        space_to_json(from_python)  # refuses unsupported spaces with a clear message
    if from_model is None and from_python is None:
        raise SpaceDefinitionError(
            f"the {kind} space of agent type {agent_type!r} is defined neither in the model (its {getter} returns "
            f"null) nor in Python (pass {argument} to AnyLogicMultiAgentEnv)"
        )
    if from_model is None:
        return from_python
    model_space = space_from_json(json.dumps(from_model))
    if from_python is not None and from_python != model_space:
        raise SpaceDefinitionError(
            f"the {kind} space of agent type {agent_type!r} is defined both in the model ({model_space}) and in "
            f"Python ({from_python}), and they differ; define it in one place only: remove {agent_type!r} from "
            f"{kind}_spaces or make the model's {getter} return null"
        )
    return model_space
