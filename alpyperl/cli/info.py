"""``alpyperl info MODEL``: what a training script needs to know about a model."""

from __future__ import annotations

import argparse
import json
import os

from .. import alpyperl1, bridge, launch_script
from ..errors import AlpyperlError
from ..spaces import flat_size, space_from_json
from .arguments import FORMATTER, wrap

__all__ = ["add_parser", "info_command", "describe_folder"]


def add_parser(commands) -> None:
    """Adds ``alpyperl info`` to the commands."""
    info = commands.add_parser(
        "info", help="show a model's spaces, parameters, classpath and kind", formatter_class=FORMATTER,
        description=wrap("Open MODEL and show what a training script needs to know about it: its kind (plain Java "
                    "or AnyLogic export), classpath, observation and action spaces (and whether the model "
                    "defines them; per agent type for a multi-agent model), and its parameters with their "
                    "defaults."),
        epilog="example:\n  alpyperl info examples/cartpole/build/model")
    info.add_argument("model", metavar="MODEL", help="the model folder")
    info.set_defaults(handler=info_command)


def info_command(args: argparse.Namespace) -> int:
    """``alpyperl info MODEL``."""
    folder = os.path.abspath(args.model)
    if not os.path.isdir(folder):
        raise AlpyperlError(f"model folder {folder} does not exist" if not os.path.exists(folder)
                            else f"{folder} is a file; give the model's folder")
    kind, model_class, classpath = describe_folder(folder)
    print(f"model         {folder}")
    print(f"kind          {kind}")
    if model_class:
        print(f"model class   {model_class}")
    print(f"classpath     {', '.join(classpath) if classpath else '(unknown)'}", flush=True)
    described = bridge.describe_model(folder, 30.0)
    agents = described.get("agents")
    if agents is not None:
        _print_agent_types(agents["types"])
    else:
        for label, key in (("observations", "observation_space"), ("actions", "action_space")):
            _print_space(label, described[key], f"give {key}=... to AnyLogicEnv")
    if described.get("action_mask"):
        print("action mask   yes (MaskedModel): Python observes {\"action_mask\": ..., \"observations\": ...}")
    names = described["parameters"]
    if names is None:
        print("parameters    (known once the model runs)")
    elif not names:
        print("parameters    (none)")
    else:
        defaults = _parameter_defaults(described, folder, model_class, classpath, names)
        print("parameters    (set with env_params={...} or --param NAME=VALUE"
              + ("" if defaults else "; their defaults are known only once the model runs") + ")")
        width = max(len(name) for name in names)
        for name in names:
            if defaults:
                java_type, default = defaults.get(name, ("", "default unknown"))
                print(f"  {name:{width}}  {java_type:8} {default}")
            else:
                print(f"  {name}")
    return 0


def _parameter_defaults(described: dict, folder: str, model_class: str | None, classpath: list[str],
                        names: list[str]) -> dict[str, tuple[str, str]]:
    """(Java type, default shown as text) of the model's parameters: an AnyLogic export's as its
    experiment sets them (read by the launcher from the root it described, before the root started),
    a plain Java model's from one instance."""
    read = described.get("parameter_defaults")
    if read is not None:
        return {name: (value["type"], bridge.shown_parameter(value["type"], value["text"]))
                for name, value in read.items()}
    return bridge.parameter_defaults(folder, model_class, classpath, names) if model_class else {}


def _print_space(label: str, space_json: dict | None, otherwise: str, indent: str = "") -> None:
    if space_json is None:
        print(f"{indent}{label:13} not defined by the model: {otherwise}")
    else:
        space = space_from_json(json.dumps(space_json))
        print(f"{indent}{label:13} {space}  (defined by the model; {flat_size(space)} value(s) flat)")


def _print_agent_types(types: list[dict]) -> None:
    """The spaces of each agent type of a multi-agent model (MultiAgentModel)."""
    print(f"agent types   {len(types)} (a multi-agent model: open it with AnyLogicMultiAgentEnv)")
    for agent_type in types:
        name = agent_type["name"]
        notes = ([f"up to {agent_type['possible_agents']} agents"] if agent_type.get("possible_agents") else []) + (
            ["with an action mask"] if agent_type.get("action_mask") else [])
        print(f"  {name}" + (f"  ({', '.join(notes)})" if notes else ""))
        for label, key, argument in (("observations", "observation_space", "observation_spaces"),
                                     ("actions", "action_space", "action_spaces")):
            _print_space(label, agent_type.get(key), f"give {argument}={{{name!r}: ...}} to AnyLogicMultiAgentEnv",
                         indent="    ")


def describe_folder(folder: str) -> tuple[str, str | None, list[str]]:
    """(kind, model class, classpath entries) of a model folder, read from its files."""
    settings = bridge.read_descriptor(folder)
    if settings is not None:
        entries = [entry for entry in settings.get("classpath", "").replace(";", ":").split(":") if entry]
        return "plain Java model (alpyperl-model.properties)", settings.get("model.class"), entries
    script = launch_script.find(folder)
    if script is not None:
        command = launch_script.parse(script.name, script.read_text(encoding="utf-8", errors="replace"))
        entries = list(dict.fromkeys(command.classpath)) if command is not None else []  # repeated entries once
        if alpyperl1.library_jars(folder):
            return (f"AnyLogic export ({script.name}) of an ALPypeRL 1.x model (runs with alpyperl's 1.x "
                    "compatibility jar)"), None, entries
        return f"AnyLogic export ({script.name})", None, entries
    return "unknown (no alpyperl-model.properties and no AnyLogic launch script)", None, []
