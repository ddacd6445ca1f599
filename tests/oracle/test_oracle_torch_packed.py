"""PyTorch unbatched input and packed sequences against shapecalc's ``--unbatched`` and ``--lengths``.

Each seed draws a module (LSTM, GRU or RNN; 1 to 3 layers; bidirectional; a projection on
LSTMs; bias; batch_first) and a call: one unbatched sequence ``(L, H_in)``, or a padded batch
packed by the real ``pack_padded_sequence`` with random lengths, sorted or not, given as a
list or as ``LENGTHxCOUNT`` runs, with ``enforce_sorted`` either way, and now and then a
``batch`` that is not the number of lengths or a zero length. Every shape shapecalc gives
must be what PyTorch makes: ``batch_sizes`` entry by entry, the ``PackedSequence`` data and
index shapes in and out, ``pad_packed_sequence``'s rectangle, ``h_n``/``c_n``, the unbatched
output and states; and the initial states shapecalc gives must be the ones the module takes.
Where PyTorch refuses the call, shapecalc must refuse the config.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from oracle_support import ORACLE_MARKS, require_frameworks
from test_packed import PACKED, UNBATCHED

from shapecalc import ShapecalcError, shapes
from shapecalc.packing import expand, parse_lengths

pytestmark = ORACLE_MARKS

CASES = 200
MODULES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch")


def _lengths_option(rng: random.Random, lengths: list[int]) -> Any:
    """The lengths as shapecalc is given them: a list, ``7,3,1`` text, or runs ``5x2,3``."""
    form = rng.choice(("list", "text", "runs"))
    if form == "list":
        return list(lengths)
    if form == "text":
        return ",".join(map(str, lengths))
    runs = [(length, len(list(group))) for length, group in itertools.groupby(lengths)]
    return ",".join(str(length) if count == 1 else f"{length}x{count}" for length, count in runs)


def packed_case(seed: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(kind, shapecalc options, the call)``: the call says what PyTorch is given."""
    rng = random.Random(seed)
    kind = rng.choice(tuple(MODULES))
    hidden = rng.randint(1, 6)
    options: dict[str, Any] = {
        "framework": "torch",
        "hidden_size": hidden,
        "input_size": rng.randint(1, 5),
        "num_layers": rng.choice((1, 1, 2, 3)),
        "bidirectional": rng.random() < 0.5,
        "use_bias": rng.random() < 0.7,
        "batch_first": rng.random() < 0.5,
    }
    if kind == "lstm" and hidden > 1 and rng.random() < 0.4:
        options["proj_size"] = rng.randint(1, hidden - 1)
    if rng.random() < 0.3:
        steps = rng.randint(1, 6)
        options |= {"unbatched": True, "timesteps": steps}
        if rng.random() < 0.2:
            options["batch"] = 1  # what PyTorch runs it as
        return kind, options, {"unbatched": True, "steps": steps}
    count = rng.randint(1, 6)
    lengths = [rng.randint(1, 7) for _ in range(count)]
    if rng.random() < 0.5:
        lengths.sort(reverse=True)
    if rng.random() < 0.03:
        lengths[-1] = 0  # PyTorch refuses a sequence of no steps
    decreasing = lengths == sorted(lengths, reverse=True)
    enforce_sorted = rng.random() < (0.5 if decreasing else 0.1)
    options["lengths"] = _lengths_option(rng, lengths)
    if not enforce_sorted:
        options["enforce_sorted"] = False
    steps = max(lengths)
    if rng.random() < 0.3:
        steps += rng.randint(0, 2)  # a padded rectangle longer than the longest sequence
        options["timesteps"] = steps
    batch = count
    if rng.random() < 0.2:
        batch = count + rng.choice((0, 0, 1))  # one more than the lengths: shapecalc refuses it
        options["batch"] = batch
    call = {"lengths": lengths, "steps": steps, "batch": batch, "enforce_sorted": enforce_sorted}
    return kind, options, call


def _module(kind: str, options: dict[str, Any]) -> Any:
    import torch

    extra = {"proj_size": options["proj_size"]} if "proj_size" in options else {}
    return getattr(torch.nn, MODULES[kind])(
        options["input_size"],
        options["hidden_size"],
        num_layers=options["num_layers"],
        bias=options["use_bias"],
        batch_first=options["batch_first"],
        bidirectional=options["bidirectional"],
        **extra,
    )


def _shape(tensor: Any) -> tuple[int, ...] | None:
    return None if tensor is None else tuple(tensor.shape)


def _finals(final: Any) -> list[Any]:
    return list(final) if isinstance(final, tuple) else [final]


def _initial_states(result: Any) -> Any:
    """Random initial states of the shapes shapecalc gives (a tuple for LSTM)."""
    import torch

    states = [torch.randn(*t.shape) for t in result.initial_states]
    return tuple(states) if len(states) == 2 else states[0]


def unbatched_mismatches(kind: str, options: dict[str, Any], call: dict[str, Any]) -> list[str]:
    import torch

    result = shapes(kind, **options)
    module = _module(kind, options)
    problems: list[str] = []

    def expect(what: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            problems.append(f"{what}: shapecalc {ours}, PyTorch {theirs}")

    inputs = torch.randn(call["steps"], options["input_size"])
    expect("input", result.tensor("input").shape, tuple(inputs.shape))
    with torch.no_grad():
        output, final = module(inputs)
        given, given_final = module(inputs, _initial_states(result))  # PyTorch takes shapecalc's h_0, c_0
    expect("output", result.tensor("output").shape, tuple(output.shape))
    expect("output with h_0", result.tensor("output").shape, tuple(given.shape))
    finals = _finals(final)
    expect("returns", list(result.outputs), ["output", "h_n", "c_n"][: 1 + len(finals)])
    for name, tensor, again in zip(("h_n", "c_n"), finals, _finals(given_final), strict=False):
        expect(name, result.tensor(name).shape, tuple(tensor.shape))
        expect(f"{name} with h_0", result.tensor(name).shape, tuple(again.shape))
        state = "hidden_state" if name == "h_n" else "cell_state"
        expect(state, result.tensor(state).shape, tuple(tensor[0].shape))
    return problems


def packed_mismatches(kind: str, options: dict[str, Any], call: dict[str, Any]) -> list[str]:
    """Every way shapecalc and PyTorch disagree on one packed call (empty when they agree)."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    batch_first = options["batch_first"]
    size = (call["batch"], call["steps"]) if batch_first else (call["steps"], call["batch"])
    padded = torch.randn(*size, options["input_size"])
    module = _module(kind, options)
    try:
        packed = pack_padded_sequence(
            padded, call["lengths"], batch_first=batch_first, enforce_sorted=call["enforce_sorted"]
        )
        with torch.no_grad():
            output, final = module(packed)
        refused = None
    except (RuntimeError, ValueError) as error:
        refused = f"PyTorch refused: {' '.join(str(error).split())[:200]}"
    try:
        result = shapes(kind, **options)
    except ShapecalcError as error:
        if call["batch"] != len(call["lengths"]) and error.option == "batch":
            # enforce_sorted=True: PyTorch refuses it too. False: it picks the sorted sequences
            # out of the padded batch, and silently drops the padded sequences no length names.
            return [] if refused or packed.batch_sizes[0] == len(call["lengths"]) else ["PyTorch kept them"]
        return [] if refused else [f"shapecalc refused what PyTorch runs: {error}"]
    if refused:
        return [refused]
    problems: list[str] = []

    def expect(what: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            problems.append(f"{what}: shapecalc {ours}, PyTorch {theirs}")

    packing = result.packing
    assert packing is not None
    expect("batch_sizes", expand(packing.batch_sizes), packed.batch_sizes.tolist())
    expect("steps", packing.steps, len(packed.batch_sizes))
    expect("total", packing.total, int(packed.batch_sizes.sum()))
    expect("sequences", packing.sequences, int(packed.batch_sizes[0]))
    expect("padded input", packing.padded_input, tuple(padded.shape))
    expect("input tensor", result.tensor("input").shape, tuple(padded.shape))
    for side, ours, theirs in (("input", packing.input, packed), ("output", packing.output, output)):
        expect(f"{side}.data", ours.data, tuple(theirs.data.shape))
        expect(f"{side}.batch_sizes", ours.batch_sizes, tuple(theirs.batch_sizes.shape))
        expect(f"{side}.sorted_indices", ours.sorted_indices, _shape(theirs.sorted_indices))
        expect(f"{side}.unsorted_indices", ours.unsorted_indices, _shape(theirs.unsorted_indices))
    expect("output tensor", result.tensor("output").shape, tuple(output.data.shape))
    unpacked, unpacked_lengths = pad_packed_sequence(output, batch_first=batch_first)
    expect("pad_packed_sequence(output)", packing.padded_output, tuple(unpacked.shape))
    expect("lengths back", call["lengths"], unpacked_lengths.tolist())
    finals = _finals(final)
    expect("returns", list(result.outputs), ["output", "h_n", "c_n"][: 1 + len(finals)])
    for name, tensor in zip(("h_n", "c_n"), finals, strict=False):
        expect(name, result.tensor(name).shape, tuple(tensor.shape))
        state = "hidden_state" if name == "h_n" else "cell_state"
        expect(state, result.tensor(state).shape, tuple(tensor[0].shape))
    with torch.no_grad():
        again, _ = module(packed, _initial_states(result))  # PyTorch takes shapecalc's h_0, c_0
    expect("output.data with h_0", result.tensor("output").shape, tuple(again.data.shape))
    # h_n holds each sequence's own last step: the top layer's forward h at t = L_n - 1 (and the
    # reverse direction's at t = 0), in the order of the lengths as given.
    directions = 2 if options["bidirectional"] else 1
    width = options.get("proj_size") or options["hidden_size"]
    h_n = finals[0]
    steps_first = unpacked if not batch_first else unpacked.transpose(0, 1)
    for index, length in enumerate(call["lengths"]):
        forward = steps_first[length - 1, index, :width]
        if not torch.allclose(forward, h_n[-directions, index], atol=1e-6):
            problems.append(f"h_n of sequence {index} is not its output at step {length - 1}")
        if directions == 2 and not torch.allclose(steps_first[0, index, width:], h_n[-1, index], atol=1e-6):
            problems.append(f"reverse h_n of sequence {index} is not its output at step 0")
    return problems


@pytest.mark.parametrize("seed", range(CASES))
def test_unbatched_and_packed_calls_match_pytorch(seed: int) -> None:
    kind, options, call = packed_case(seed)
    if call.get("unbatched"):
        problems = unbatched_mismatches(kind, options, call)
    else:
        problems = packed_mismatches(kind, options, call)
    assert not problems, f"{kind}({options}) called with {call}\n  " + "\n  ".join(problems)


def test_the_draw_covers_every_kind_of_call() -> None:
    """The seeds reach every mode, sorted and unsorted lengths, runs, and PyTorch's refusals."""
    calls = [packed_case(seed) for seed in range(CASES)]
    packed = [(options, call) for _, options, call in calls if "lengths" in call]
    assert sum(1 for _, _, call in calls if call.get("unbatched")) >= 20
    assert any(not call["enforce_sorted"] and call["lengths"] != sorted(call["lengths"], reverse=True)
               for _, call in packed)  # fmt: skip
    assert any(call["enforce_sorted"] and call["lengths"] != sorted(call["lengths"], reverse=True)
               for _, call in packed)  # fmt: skip
    assert any(isinstance(options["lengths"], str) and "x" in options["lengths"] for options, _ in packed)
    assert any(call["batch"] != len(call["lengths"]) for _, call in packed)
    assert any(call["steps"] > max(call["lengths"]) for _, call in packed)
    assert any(options.get("proj_size") for options, _ in packed)


def test_a_padded_length_below_the_longest_is_refused() -> None:
    """PyTorch 2.13 does not check it: it packs data of sum(lengths) rows with batch_sizes that
    add up to more. shapecalc refuses the config."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    packed = pack_padded_sequence(torch.randn(3, 2, 4), [5, 1])
    assert packed.data.shape[0] != int(packed.batch_sizes.sum())
    longest = r"timesteps: must be at least the longest of lengths \(5\), got 3"
    with pytest.raises(ShapecalcError, match=longest):
        shapes("lstm", framework="torch", hidden_size=4, input_size=4, lengths=[5, 1], timesteps=3)


#: The module arguments the known tables leave at PyTorch's defaults.
_DEFAULTS = {"num_layers": 1, "bidirectional": False, "use_bias": True, "batch_first": False}


@pytest.mark.parametrize("index", range(len(PACKED)))
def test_the_known_packed_table_is_what_pytorch_makes(index: int) -> None:
    """Every entry of ``tests/test_packed.py``'s table, rebuilt with the real module."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    known = PACKED[index]
    options = {**_DEFAULTS, **known.options}
    lengths = expand(parse_lengths(options["lengths"], "lengths").runs)
    size = (len(lengths), max(lengths)) if options["batch_first"] else (max(lengths), len(lengths))
    packed = pack_padded_sequence(torch.randn(*size, options["input_size"]), lengths,
                                  batch_first=options["batch_first"],
                                  enforce_sorted=options.get("enforce_sorted", True))  # fmt: skip
    with torch.no_grad():
        output, final = _module(known.kind, options)(packed)
    assert packed.batch_sizes.tolist() == known.batch_sizes
    assert (tuple(packed.data.shape), tuple(output.data.shape)) == (known.input_data, known.output_data)
    assert [tuple(t.shape) for t in _finals(final)] == known.finals
    padded, _ = pad_packed_sequence(output, batch_first=options["batch_first"])
    assert tuple(padded.shape) == known.padded_output
    assert _shape(packed.sorted_indices) == known.sorted_indices


@pytest.mark.parametrize(("kind", "options", "steps", "output", "finals"), UNBATCHED)
def test_the_known_unbatched_table_is_what_pytorch_makes(kind, options, steps, output, finals) -> None:
    import torch

    built = {**_DEFAULTS, **options}
    with torch.no_grad():
        real, final = _module(kind, built)(torch.randn(steps, options["input_size"]))
    assert (tuple(real.shape), [tuple(t.shape) for t in _finals(final)]) == (output, finals)


def test_torchinfo_counts_packed_and_unbatched_calls_by_the_features_too() -> None:
    """docs/packed-sequences.md's figures: torchinfo 1.8 multiplies an RNN's parameters by the
    first two axes of its output, which for PackedSequence data and unbatched output include the
    features: shapecalc's MACs plus the bias adds, D*H_out times over."""
    require_frameworks("torchinfo")
    import torch
    import torchinfo
    from torch.nn.utils.rnn import pack_padded_sequence

    class Packs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(4, 8)

        def forward(self, padded: Any, lengths: list[int]) -> Any:
            return self.lstm(pack_padded_sequence(padded, lengths))[0].data

    sizes = {"hidden_size": 8, "input_size": 4}
    packed = shapes("lstm", framework="torch", lengths=[7, 3, 1], **sizes)
    counted = torchinfo.summary(Packs(), input_data=[torch.randn(7, 3, 4), [7, 3, 1]], verbose=0)
    bias_adds = 11 * 64
    assert (packed.costs.macs, counted.total_mult_adds) == (4224, (4224 + bias_adds) * 8) == (4224, 39424)
    one = shapes("lstm", framework="torch", unbatched=True, timesteps=7, **sizes)
    counted = torchinfo.summary(torch.nn.LSTM(4, 8), input_data=[torch.randn(7, 4)], verbose=0)
    assert (one.costs.macs, counted.total_mult_adds) == (2688, (2688 + 7 * 64) * 8) == (2688, 25088)
    padded = torchinfo.summary(torch.nn.LSTM(4, 8), input_data=[torch.randn(7, 3, 4)], verbose=0)
    batch = shapes("lstm", framework="torch", batch=3, timesteps=7, **sizes)
    assert padded.total_mult_adds == batch.costs.macs + 21 * 64
