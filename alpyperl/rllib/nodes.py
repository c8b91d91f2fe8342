"""The nodes of the Ray cluster: does each have the model folder, and why does the environment fail there."""

from __future__ import annotations

import os
import socket
from typing import Any

import ray

from ..errors import ModelLoadError

__all__ = ["check_model_on_nodes"]


def node_name() -> str:
    """This node, as error messages name it."""
    if not ray.is_initialized():
        return socket.gethostname()
    node_id = ray.get_runtime_context().get_node_id()
    return f"{ray.util.get_node_ip_address()} ({socket.gethostname()}, node id {node_id[:8]})"


def check_model_on_nodes(model: str | os.PathLike) -> None:
    """Raises :class:`~alpyperl.ModelLoadError` naming every Ray node that lacks the model folder.

    Checks the live nodes with CPUs (those that can run EnvRunners). Each needs the exported
    model at the same path: a shared file system, a copy made when the node is set up, or Ray's
    runtime environment (a relative path is resolved in the job's working directory on the node).
    """
    path = os.fspath(model)

    def folder_problem(folder: str) -> str | None:  # runs on the node; pickled by value
        import os

        if os.path.isdir(folder):
            return None
        return "no such folder" if not os.path.exists(folder) else "a file, not a folder"

    missing = [(node, problem) for node, problem in _on_every_node(folder_problem, path) if problem]
    if missing:
        listed = "; ".join(f"{node}: {problem}" for node, problem in missing)
        raise ModelLoadError(
            f"the model folder {path} is missing on {len(missing)} of {len(_runner_nodes())} Ray node(s) ({listed}). "
            "Every node that runs EnvRunners needs the exported model at this path: put it on a shared file "
            "system, copy it to each node, or ship it with Ray's runtime environment (see docs/training.md)."
        )


def env_failures_on_nodes(env_config: dict, multi_agent: bool = False) -> list[tuple[str, str, str]]:
    """Creates the environment once on every node (an ``AnyLogicMultiAgentEnv`` if ``multi_agent``,
    else an ``AnyLogicEnv``); returns (node, error type, message) of failures."""

    def try_env(settings: dict):  # runs on the node in a one-off process; pickled by value
        from alpyperl import AnyLogicEnv, AnyLogicMultiAgentEnv

        try:
            (AnyLogicMultiAgentEnv if multi_agent else AnyLogicEnv)(settings).close()
        except Exception as error:  # reported to the driver
            return type(error).__name__, str(error)
        return None

    return [(node, *failure) for node, failure in _on_every_node(try_env, env_config, fresh_process=True)
            if failure]


def _on_every_node(function, argument, *, fresh_process: bool = False) -> list[tuple[str, Any]]:
    """Runs ``function(argument)`` once on every live node; returns (node description, result)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    remote = ray.remote(num_cpus=0, max_calls=1 if fresh_process else 0)(function)
    nodes = _runner_nodes()
    calls = [remote.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False))
             .remote(argument) for node in nodes]
    names = [f"{node['NodeManagerAddress']} ({node['NodeManagerHostname']}, node id {node['NodeID'][:8]})"
             for node in nodes]
    return list(zip(names, ray.get(calls)))


def _runner_nodes() -> list[dict]:
    """The live Ray nodes that have CPUs, i.e. that can run EnvRunners."""
    return [node for node in ray.nodes() if node.get("Alive") and node.get("Resources", {}).get("CPU", 0) > 0]
