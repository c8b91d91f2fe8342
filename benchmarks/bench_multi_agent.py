"""What a step of a multi-agent model costs when many agents decide at the same time.

    python benchmarks/bench_multi_agent.py            # about a minute
    python benchmarks/bench_multi_agent.py --quick    # a few seconds (CI smoke)
    python benchmarks/bench_multi_agent.py --clock cpu   # the stepping thread's CPU time (a loaded machine)

The model is the test model SwarmModel (tests/models): N walkers that all decide at every tick
(observation Box(2), action Discrete(3) with an action mask). Every walker stays where it is, so
the episode never ends during a measurement. Contenders, all through ``AnyLogicMultiAgentEnv``
(whole ``step()`` timed, the dict of actions built from ``waiting_agents`` each step):

- ``1 agent``: one walker, one crossing per tick (the single-agent step of this API);
- ``64 agents, one crossing``: 64 walkers, ``decide()`` answers all of them in one crossing;
- ``64 agents, a crossing each``: 64 walkers that each call ``requestActionNow()`` (64 steps per
  tick), what a step of 64 agents would cost without gathering them;
- ``AnyLogicEnv CartPole`` for reference: the single-agent environment on the CartPole example.

Goal (issue 16): a step where 64 agents decide at the same time costs at most 3x a single-agent
step. Rounds are interleaved and medians reported; a ratio is the median over rounds of the
ratio within each round (contenders measured next to each other in time see the same load).
Also reported: the part of the 64-agent step spent in Java and the crossing (``ModelInstances.run``).
``--clock cpu`` times with the CPU time of the stepping thread instead of the wall clock: the model
runs on that thread (``model_threads="caller"``), so this is the step's own cost, without the time
other processes of a busy machine take. Writes benchmarks/results/multi_agent.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from alpyperl import AnyLogicEnv, AnyLogicMultiAgentEnv

ROOT = Path(__file__).resolve().parent.parent
TEST_MODELS = ROOT / "tests" / "models" / "build" / "model"
CARTPOLE = ROOT / "examples" / "cartpole" / "build" / "model"
RESULTS = ROOT / "benchmarks" / "results" / "multi_agent.json"
GOAL = 3.0
AGENTS = 64


def swarm_folder(into: Path) -> Path:
    """A copy of the test models' folder whose model class is SwarmModel."""
    folder = into / "swarm"
    shutil.copytree(TEST_MODELS, folder)
    properties = folder / "alpyperl-model.properties"
    properties.write_text(properties.read_text().replace("com.alpyperl.testmodels.FaultyModel",
                                                         "com.alpyperl.testmodels.SwarmModel"))
    return folder


#: What the measurements are timed with (``--clock``): the wall clock, or the calling thread's CPU time.
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
clock = CLOCKS["wall"]


def multi_agent_step(env: AnyLogicMultiAgentEnv, seconds: float) -> float:
    """Steps ``env`` (every walker stays) for about ``seconds``; returns microseconds per step."""
    steps, start = 0, clock()
    while clock() - start < seconds:
        for _ in range(200):
            env.step(dict.fromkeys(env.waiting_agents, 1))
        steps += 200
    return (clock() - start) / steps * 1e6


def crossing_only(env: AnyLogicMultiAgentEnv, seconds: float) -> float:
    """The crossing alone, as ``step()`` makes it (actions already in the table): microseconds per call."""
    run = env._instances.run  # noqa: SLF001 - the benchmark looks inside on purpose
    steps, start = 0, clock()
    while clock() - start < seconds:
        for _ in range(200):
            run()
        steps += 200
    return (clock() - start) / steps * 1e6


def cartpole_step(env: AnyLogicEnv, seconds: float) -> float:
    """Steps CartPole with a balancing policy (resets included) for about ``seconds``; microseconds per step."""
    observation, _ = env.reset(seed=0)
    steps, start = 0, clock()
    while clock() - start < seconds:
        for _ in range(200):
            action = 1 if observation[2] + 0.5 * observation[3] > 0 else 0
            observation, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                observation, _ = env.reset()
        steps += 200
    return (clock() - start) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short rounds, for a smoke run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="time with the wall clock (default) or the stepping thread's CPU time")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    rounds, seconds = (1, 0.2) if args.quick else (15, 0.4)

    with tempfile.TemporaryDirectory() as scratch:
        model = swarm_folder(Path(scratch))
        forever = {"ticks": 2**31 - 1}
        envs = {
            "1 agent": AnyLogicMultiAgentEnv(model=model, env_params={**forever, "agents": 1}),
            f"{AGENTS} agents, one crossing": AnyLogicMultiAgentEnv(model=model, env_params={**forever, "agents": AGENTS}),
            f"{AGENTS} agents, a crossing each": AnyLogicMultiAgentEnv(
                model=model, env_params={**forever, "agents": AGENTS, "oneCrossingPerAgent": True}),
        }
        cartpole = AnyLogicEnv(CARTPOLE)
        try:
            for env in envs.values():
                env.reset(seed=0)
            crossing_env = envs[f"{AGENTS} agents, one crossing"]
            times: dict[str, list[float]] = {name: [] for name in [*envs, "crossing of 64 agents", "AnyLogicEnv CartPole"]}
            for round_ in range(rounds + 1):  # round 0 warms the JIT up and is dropped
                for name, env in envs.items():
                    measured = multi_agent_step(env, seconds)
                    if round_:
                        times[name].append(measured)
                measured = crossing_only(crossing_env, seconds)
                cart = cartpole_step(cartpole, seconds)
                if round_:
                    times["crossing of 64 agents"].append(measured)
                    times["AnyLogicEnv CartPole"].append(cart)
        finally:
            for env in envs.values():
                env.close()
            cartpole.close()

    medians = {name: statistics.median(values) for name, values in times.items()}
    many = medians[f"{AGENTS} agents, one crossing"]
    each_tick = medians[f"{AGENTS} agents, a crossing each"] * AGENTS

    def ratio_of(name: str, baseline: str) -> float:
        """The median over rounds of the ratio within a round (neighbours in time see the same load)."""
        return statistics.median(a / b for a, b in zip(times[name], times[baseline]))

    ratio = ratio_of(f"{AGENTS} agents, one crossing", "1 agent")
    summary = {
        "us_per_step": medians,
        "ratio_64_agents_vs_1_agent": ratio,
        "ratio_64_agents_vs_anylogic_env": ratio_of(f"{AGENTS} agents, one crossing", "AnyLogicEnv CartPole"),
        "us_per_tick_64_agents_a_crossing_each": each_tick,
        "gain_of_one_crossing": each_tick / many,
        "crossing_share_of_64_agent_step": medians["crossing of 64 agents"] / many,
        "goal": GOAL,
        "goal_met": ratio <= GOAL,
    }
    print(f"\nMulti-agent step ({'quick' if args.quick else 'full'}, {rounds} round(s) of {seconds} s, medians, "
          f"{args.clock} clock), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n")
    for name, value in medians.items():
        print(f"{name:<32} {value:9.2f} us per step")
    print(f"\n{AGENTS} agents in one crossing / 1 agent:        {ratio:6.2f}x  (goal <= {GOAL:.0f}x: "
          f"{'met' if ratio <= GOAL else 'NOT met'})")
    print(f"{AGENTS} agents in one crossing / AnyLogicEnv step: {summary['ratio_64_agents_vs_anylogic_env']:6.2f}x")
    print(f"a tick of {AGENTS} agents, a crossing each:       {each_tick:9.2f} us "
          f"({summary['gain_of_one_crossing']:.1f}x the tick in one crossing)")
    print(f"Java and the crossing in the {AGENTS}-agent step:  {summary['crossing_share_of_64_agent_step']:6.0%}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"benchmark": "multi_agent", "quick": args.quick, "clock": args.clock,
                                       "rounds": rounds,
                                       "seconds": seconds, "rounds_us_per_step": times, **summary}, indent=2))
    print(f"JSON: {args.output}")


if __name__ == "__main__":
    main()
