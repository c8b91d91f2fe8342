"""Small PyTorch policy networks shaped like RLlib's defaults, exported to ONNX for the Java evaluator's tests.

Each case mirrors what RLlib's default PPO RLModule computes in ``forward_inference`` (an MLP encoder,
then a policy head whose output is ``action_dist_inputs``):

* Discrete: the logits;
* MultiDiscrete: the concatenated logits of every component;
* Box: the means and the log standard deviations side by side (one linear layer split in two, the
  log-stds clipped like RLlib's ``log_std_clip_param``; or a free, state-independent log-std).

Observation sizes are those of flattened Dict/Tuple spaces where the case says so (RLlib flattens
them before the module). A few extra cases cover operators that other exports emit (LayerNorm,
GELU, softmax, reshapes of multi-dimensional inputs, MatMul on 3-D tensors) and older opsets.

The export matches alpyperl's: TorchScript exporter (``dynamo=False``), input ``obs`` with a dynamic
batch dimension.

    python tests/onnx/make_test_models.py OUT_DIR     # writes every case and prints its operators
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

ACTIVATIONS = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "linear": nn.Identity,
}


@dataclass(frozen=True)
class Case:
    """One exported policy: its observation shape, network and action head."""

    obs_shape: tuple[int, ...]
    hiddens: tuple[int, ...] = (256, 256)
    activation: str = "tanh"
    head: str = "discrete"  # discrete | multidiscrete | multidiscrete_heads | box | box_free_log_std | probs
    actions: tuple[int, ...] = (2,)  # Discrete: (n,); MultiDiscrete: nvec; Box: (dims,)
    layernorm: bool = False
    encoder: str = "flat"  # flat | reshape (multi-dimensional obs flattened in the graph) | sequence
    opset: int | None = None  # None: the exporter's default
    notes: str = field(default="", compare=False)

    @property
    def obs_size(self) -> int:
        size = 1
        for d in self.obs_shape:
            size *= d
        return size

    def action_segments(self) -> list[int]:
        """Sizes of the output segments whose argmax is an action (empty for Box)."""
        if self.head == "discrete" or self.head == "probs":
            return [self.actions[0]]
        if self.head.startswith("multidiscrete"):
            return list(self.actions)
        return []


CASES: dict[str, Case] = {
    # RLlib's defaults: fcnet_hiddens [256, 256], tanh.
    "discrete_tanh256": Case((4,), notes="CartPole-like"),
    "discrete_tanh64": Case((4,), hiddens=(64, 64), notes="CartPole-like, smaller"),
    "box_tanh256": Case((11,), head="box", actions=(3,)),
    "multidiscrete_tanh256": Case((7,), head="multidiscrete", actions=(3, 4, 2),
                                  notes="Dict(a=Box(3), b=Discrete(4)) flattened"),
    # Smaller relu networks.
    "discrete_relu64": Case((8,), hiddens=(64, 64), activation="relu", actions=(4,)),
    "box_free_log_std_relu64": Case((6,), hiddens=(64, 64), activation="relu", head="box_free_log_std", actions=(2,)),
    "multidiscrete_heads_relu64": Case((13,), hiddens=(64, 64), activation="relu", head="multidiscrete_heads",
                                       actions=(5, 3), notes="Tuple(Box(5), MultiBinary(8)) flattened"),
    # Other RLlib encoder options and older opsets.
    "discrete_silu_layernorm": Case((5,), hiddens=(32, 32), activation="silu", layernorm=True, actions=(3,)),
    "discrete_silu_layernorm_opset13": Case((5,), hiddens=(32, 32), activation="silu", layernorm=True, actions=(3,),
                                            opset=13),
    "box_elu_opset11": Case((6,), hiddens=(32,), activation="elu", head="box", actions=(2,), opset=11),
    "box_linear_opset18": Case((3,), hiddens=(16, 16), activation="linear", head="box", actions=(4,), opset=18),
    "probs_gelu": Case((9,), hiddens=(32,), activation="gelu", head="probs", actions=(5,)),
    "probs_gelu_opset17": Case((9,), hiddens=(32,), activation="gelu", head="probs", actions=(5,), opset=17),
    "discrete_reshape_relu": Case((2, 5), hiddens=(32, 32), activation="relu", encoder="reshape", actions=(3,)),
    "discrete_sequence_tanh": Case((4, 6), hiddens=(16,), encoder="sequence", actions=(3,), opset=13),
}


class Policy(nn.Module):
    """An RLlib-style policy network: encoder MLP, then the action head (returns action_dist_inputs)."""

    def __init__(self, case: Case, log_std_clip: float = 20.0):
        super().__init__()
        self.case = case
        self.log_std_clip = log_std_clip
        act = ACTIVATIONS[case.activation]
        layers: list[nn.Module] = []
        width = case.obs_shape[-1] if case.encoder == "sequence" else case.obs_size
        for h in case.hiddens:
            layers.append(nn.Linear(width, h))
            if case.layernorm:
                layers.append(nn.LayerNorm(h))
            layers.append(act())
            width = h
        self.encoder = nn.Sequential(*layers)
        if case.head == "box":
            self.pi = nn.Linear(width, 2 * case.actions[0])
        elif case.head == "box_free_log_std":
            self.pi = nn.Linear(width, case.actions[0])
            self.log_std = nn.Parameter(torch.linspace(-1.0, 0.5, case.actions[0]))
        elif case.head == "multidiscrete_heads":
            self.heads = nn.ModuleList(nn.Linear(width, n) for n in case.actions)
        elif case.head in ("discrete", "probs"):
            self.pi = nn.Linear(width, case.actions[0])
        elif case.head == "multidiscrete":
            self.pi = nn.Linear(width, sum(case.actions))
        else:
            raise ValueError(f"unknown head {case.head}")

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if self.case.encoder == "reshape":
            obs = obs.reshape(obs.shape[0], -1)
        features = self.encoder(obs)
        if self.case.encoder == "sequence":
            features = features.mean(dim=1)  # [batch, time, hidden] -> [batch, hidden]
        head = self.case.head
        if head == "box":
            mean, log_std = torch.chunk(self.pi(features), 2, dim=-1)
            return torch.cat([mean, log_std.clamp(-self.log_std_clip, self.log_std_clip)], dim=-1)
        if head == "box_free_log_std":
            mean = self.pi(features)
            return torch.cat([mean, self.log_std.clamp(-20.0, 20.0).expand(mean.shape[0], -1)], dim=-1)
        if head == "multidiscrete_heads":
            return torch.cat([h(features) for h in self.heads], dim=-1)
        if head == "probs":
            logits = self.pi(features)
            return torch.softmax(logits, dim=-1) + 0.1 * torch.log_softmax(logits, dim=-1)
        return self.pi(features)


def build(case: Case, seed: int = 0) -> Policy:
    """The network of ``case`` with deterministic random weights (biases too, so no output is trivially zero)."""
    torch.manual_seed(seed)
    policy = Policy(case)
    with torch.no_grad():
        for p in policy.parameters():
            if p.dim() == 1 and p.shape[0] > 1:
                p.uniform_(-0.3, 0.3)
    return policy.eval()


def export(module: nn.Module, obs_shape: tuple[int, ...], path: Path, opset: int | None = None) -> Path:
    """Exports ``module`` like alpyperl does: TorchScript exporter, input ``obs`` with a dynamic batch dimension."""
    kwargs = {} if opset is None else {"opset_version": opset}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.zeros(1, *obs_shape),), str(path), dynamo=False, input_names=["obs"],
                          output_names=["action_dist_inputs"], dynamic_axes={"obs": {0: "batch"}}, **kwargs)
    return path


def make(name: str, out_dir: Path, seed: int = 0) -> Path:
    """Builds and exports case ``name`` to ``out_dir/name.onnx``."""
    case = CASES[name]
    return export(build(case, seed), case.obs_shape, Path(out_dir) / f"{name}.onnx", case.opset)


def op_types(path: Path) -> list[str]:
    """The sorted operator types an ONNX file uses."""
    import onnx

    return sorted({node.op_type for node in onnx.load(str(path)).graph.node})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, case in CASES.items():
        path = make(name, args.out_dir)
        print(f"{name:36s} opset {case.opset or 'default':>7}  {' '.join(op_types(path))}")


if __name__ == "__main__":
    main()
