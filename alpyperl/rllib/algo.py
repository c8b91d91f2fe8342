"""Building the algorithm: observations RLlib's networks can read, readable errors when a node
cannot open the model, and training that goes on when models or runner processes fail.
"""

from __future__ import annotations

import ray

from ..errors import AlpyperlError, ModelLoadError
from .envs import flatten_observations
from .nodes import check_model_on_nodes, env_failures_on_nodes

__all__ = ["build_algo", "fault_tolerant"]


def build_algo(config):
    """``config.build_algo()``, failing with a readable error when a node cannot open the model.

    Observations that are not a Box are flattened for RLlib's default networks
    (:func:`flatten_observations`) unless ``config`` sets an env-to-module connector itself.

    First checks that every node of the Ray cluster has the model folder named by
    ``env_config["model"]`` (:func:`check_model_on_nodes`). If building fails anyway, for example
    because the model's class cannot be loaded, the environment is created once on each node
    to find out why, and that error is raised with the node's name: when
    ``restart_failed_env_runners`` is on (RLlib's default), RLlib only logs why its runners died
    and then fails with an unrelated ``IndexError``.
    """
    if config._env_to_module_connector is None:
        config = config.copy(copy_frozen=False).env_runners(env_to_module_connector=flatten_observations)
    env_config = dict(config.env_config or {})
    model = env_config.get("model")
    if model is not None and ray.is_initialized():  # else RLlib starts Ray: check after a failure
        check_model_on_nodes(model)
    try:
        return config.build_algo()
    except Exception as error:
        if model is None:
            raise
        failures = env_failures_on_nodes(env_config, multi_agent=config.is_multi_agent)
        if not failures:
            raise
        kind = ModelLoadError if any(name == "ModelLoadError" for _, name, _ in failures) else AlpyperlError
        details = "\n".join(f"- on node {node}: {name}: {message}" for node, name, message in failures)
        if any("MultiAgentModel" in message for _, _, message in failures) and not config.is_multi_agent:
            details += ("\n(a model with several deciding agents trains with rllib.register_multi_agent_env() and "
                        "rllib.multi_agent_modules(config, env_config): see docs/multi-agent.md and "
                        "examples/jobshop/train.py)")
        raise kind(f"the EnvRunners could not create the environment:\n{details}") from error


def fault_tolerant(config, *, restart_delay_s: float = 2.0, max_runner_restarts: int = 100):
    """Returns ``config`` set up to keep training when models or runner processes fail.

    - ``restart_failed_sub_environments=True``: a model that throws (``ModelError``, with the
      Java stack trace in RLlib's log) or times out makes its runner close and re-create its
      environments; the runner's partial episodes are dropped and sampling goes on.
    - ``restart_failed_env_runners=True``: a runner process that dies (crash, ``SIGKILL``, a lost
      node) is replaced by Ray with a new process and a new JVM, at most ``max_runner_restarts``
      times per runner. A runner whose call raised an error waits ``restart_delay_s`` seconds
      (RLlib's default is 60) before its process exits to be replaced.
    """
    return config.fault_tolerance(
        restart_failed_sub_environments=True,
        restart_failed_env_runners=True,
        max_num_env_runner_restarts=max_runner_restarts,
        delay_between_env_runner_restarts_s=restart_delay_s,
    )
