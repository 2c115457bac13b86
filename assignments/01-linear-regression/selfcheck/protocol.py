"""The JSON wire format between the grader and the code it grades.

Everything that crosses from student code to the grader is plain JSON built here: numbers,
lists, strings, and tagged dicts (``{"t": "tensor", ...}``). No pickle, no live object.
The same module serves three places: the sandboxed child (encodes what the student's
function returned), the student's own kernel (the self-check), and the grader (builds the
arguments it sends). Only the first two need torch, and they import it lazily.
"""

from __future__ import annotations

import math

# Caps keep one hostile return value from flooding the pipe or the grader's memory.
MAX_ITEMS = 100_000
MAX_DEPTH = 8
MAX_TEXT = 2_000


# --- arguments: built by the grader, decoded in the child ---------------------------

def tensor(data, dtype: str = "float32", requires_grad: bool = False) -> dict:
    """A tensor argument: nested lists of numbers, created in the child as ``torch.tensor``.

    With ``requires_grad`` the tensor is a leaf of autograd: after the call its ``.grad``
    comes back with it (see :func:`encode`), which shows whether ``backward()`` ran through it.
    """
    arg = {"t": "tensor", "dtype": dtype, "data": data}
    if requires_grad:
        arg["requires_grad"] = True
    return arg


def column_tensor(values, requires_grad: bool = False) -> dict:
    """A float32 tensor argument of shape (N, 1) holding ``values``."""
    return tensor([[v] for v in values], requires_grad=requires_grad)


def linear(weight: float, bias: float) -> dict:
    """An ``nn.Linear(1, 1)`` argument with grader-chosen initial weights."""
    return {"t": "module", "class": "Linear", "params": {"weight": [[weight]], "bias": [bias]}}


# torch.Generator.manual_seed takes any integer in [0, 2**64); the grader's seeds stay far below.
MAX_GENERATOR_SEED = 2**64 - 1


def generator(seed: int) -> dict:
    """A ``torch.Generator`` argument seeded with ``seed``, created in the child.

    What shuffles a ``DataLoader(..., shuffle=True, generator=g)``: the grader knows the seed,
    so it can reproduce the order in which the student's code sees the data.
    """
    return {"t": "generator", "seed": _generator_seed(seed)}


def _generator_seed(seed) -> int:
    """``seed`` if torch.Generator.manual_seed accepts it; checked where the argument is made and where it is used."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_GENERATOR_SEED:
        raise ValueError(f"a generator's seed must be an int in [0, 2**64), got {seed!r}")
    return seed


def decode_arg(obj):
    """Turn a JSON argument into the Python/torch object the student's function receives."""
    if isinstance(obj, list):
        return [decode_arg(item) for item in obj]
    if not isinstance(obj, dict):
        return obj
    kind = obj.get("t")
    if kind == "tensor":
        import torch

        return torch.tensor(obj["data"], dtype=getattr(torch, obj["dtype"]),
                            requires_grad=bool(obj.get("requires_grad", False)))
    if kind == "module" and obj.get("class") == "Linear":
        import torch

        weight = torch.tensor(obj["params"]["weight"], dtype=torch.float32)
        model = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            model.weight.copy_(weight)
            model.bias.copy_(torch.tensor(obj["params"]["bias"], dtype=torch.float32))
        return model
    if kind == "generator":
        import torch

        return torch.Generator().manual_seed(_generator_seed(obj.get("seed")))
    if kind == "tuple":
        return tuple(decode_arg(item) for item in obj["items"])
    raise ValueError(f"unknown argument kind {kind!r}")


# --- results: encoded in the child, read by the grader ---------------------------------

def _number(value: float) -> float | str:
    # JSON has no NaN or infinity; spell them so the grader can name them in feedback.
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _flat_numbers(data, budget: list[int]):
    if isinstance(data, list):
        budget[0] -= len(data)
        if budget[0] < 0:
            raise OverflowError
        return [_flat_numbers(item, budget) for item in data]
    if isinstance(data, bool):
        return int(data)
    if isinstance(data, (int, float)):
        return _number(float(data))
    return _number(float(data))


def encode(value, depth: int = 0, render: bool = False) -> dict:
    """Describe ``value`` as JSON data: its kind, its type name, and the numbers in it.

    Read from the data, never from what the object says about itself: a subclass of a
    builtin, a tensor or an array may override ``__len__``, ``__iter__``, ``dtype``, ``shape``,
    ``tolist`` or ``detach`` to claim what it does not hold, so the base types' own methods
    (``float.__float__``, ``list.__iter__``, the tensor's storage through a plain
    ``torch.Tensor`` view) read it here.
    """
    type_name = type(value).__name__[:100]  # a class of the student's may have any name
    if depth > MAX_DEPTH:
        return {"t": "object", "type": type_name, "repr": "(nested too deeply)"}
    if value is None:
        return {"t": "none", "type": "NoneType"}
    if isinstance(value, bool):
        return {"t": "bool", "type": type_name, "v": value is True}
    if isinstance(value, int):
        number = int.__int__(value)
        return {"t": "int", "type": type_name, "v": _number(float(number)) if abs(number) > 2**53 else number}
    if isinstance(value, float):
        return {"t": "float", "type": type_name, "v": _number(float.__float__(value))}
    if isinstance(value, str):
        return {"t": "str", "type": type_name, "v": str.__getitem__(value, slice(0, MAX_TEXT))}
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        base = tuple if kind == "tuple" else list
        size = base.__len__(value)
        if size > MAX_ITEMS:
            return {"t": "object", "type": type_name, "repr": f"(a {kind} of {size} items: too long)"}
        items = [encode(item, depth + 1, render) for item in base.__iter__(value)]
        return {"t": kind, "type": type_name, "items": items}
    module = type(value).__module__ or ""
    if module.startswith("torch") or _is_tensor(value):
        return _encode_torch(value, type_name, depth, render)
    if module.startswith("numpy") or _is_ndarray(value):
        return _encode_numpy(value, type_name)
    if module.startswith("matplotlib"):
        return _encode_matplotlib(value, type_name, render)
    return {"t": "object", "type": type_name, "repr": _safe_repr(value)}


def _is_tensor(value) -> bool:
    import sys

    torch = sys.modules.get("torch")  # a tensor exists only if torch was imported
    return torch is not None and isinstance(value, (torch.Tensor, torch.nn.Module))


def _is_ndarray(value) -> bool:
    import sys

    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def _plain(value):
    """``value``'s data as a plain, detached ``torch.Tensor`` on the CPU, and what autograd holds
    for it (requires_grad, is_leaf, grad), read through torch's own C descriptors: a subclass's
    properties and methods and its ``__torch_function__`` are not consulted."""
    import torch

    base = torch._C.TensorBase
    with torch._C.DisableTorchFunctionSubclass():
        detached = base.detach(value)
        if type(detached) is not torch.Tensor:
            raise TypeError("a tensor whose data cannot be read")
        requires_grad = base.requires_grad.__get__(value)
        grad = base.grad.__get__(value) if requires_grad and base.is_leaf.__get__(value) else None
        return detached.cpu(), requires_grad, base.is_leaf.__get__(value), grad


def _safe_repr(value) -> str:
    try:
        return repr(value)[:200]
    except Exception as error:  # a hostile __repr__ must not break encoding
        return f"(repr failed: {type(error).__name__})"


def _encode_torch(value, type_name: str, depth: int, render: bool) -> dict:
    import torch

    if isinstance(value, torch.Tensor):
        detached, requires_grad, is_leaf, grad = _plain(value)
        with torch._C.DisableTorchFunctionSubclass():
            if detached.numel() > MAX_ITEMS:
                return {"t": "object", "type": "Tensor", "repr": f"(a tensor of {detached.numel()} values: too large)"}
            if detached.is_complex():
                return {"t": "object", "type": "Tensor", "repr": "(a complex tensor)"}
            data = detached.tolist()
            encoded = {
                "t": "tensor",
                "type": "Tensor",
                "dtype": str(detached.dtype).replace("torch.", ""),
                "shape": list(detached.shape),
                "data": _flat_numbers(data, [MAX_ITEMS]) if isinstance(data, list) else _number(float(data)),
                "requires_grad": bool(requires_grad),
            }
            if requires_grad and is_leaf:
                # What backward() left in the leaf: how a check sees, from the data alone, that
                # a loss was differentiated through this argument.
                if isinstance(grad, torch.Tensor):
                    grad = _plain(grad)[0]
                ok = isinstance(grad, torch.Tensor) and grad.shape == detached.shape and not grad.is_complex()
                encoded["grad"] = _flat_numbers(grad.tolist(), [MAX_ITEMS]) if ok and grad.dim() \
                    else (_number(float(grad)) if ok else None)
        return encoded
    if isinstance(value, torch.Generator):
        # No repr: it holds a memory address, which would make two runs' replies differ.
        return {"t": "object", "type": "Generator", "repr": "(a torch.Generator)"}
    if isinstance(value, torch.nn.Module):
        # The parameters as the module holds them (its _parameters, recursively), not what an
        # overridden named_parameters() says.
        params = {name: _encode_torch(p, "Parameter", depth + 1, render)
                  for name, p in torch.nn.Module.named_parameters(value)}
        return {"t": "module", "type": type_name, "params": params}
    return {"t": "object", "type": type_name, "repr": _safe_repr(value)}


def _encode_numpy(value, type_name: str) -> dict:
    import numpy as np

    if isinstance(value, np.ndarray):
        value = np.ndarray.view(value, np.ndarray)  # the array's own dtype and shape, not a subclass's claims
        if value.size > MAX_ITEMS or value.dtype.kind not in "biuf":
            return {"t": "object", "type": type_name, "repr": f"(an array of {value.size} {value.dtype})"}
        return {
            "t": "ndarray",
            "type": type_name,
            "dtype": str(value.dtype),
            "shape": list(value.shape),
            "data": _flat_numbers(value.astype(float).tolist(), [MAX_ITEMS]) if value.ndim else _number(float(value)),
        }
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"t": "npscalar", "type": type_name, "v": _number(float(value))}
    return {"t": "object", "type": type_name, "repr": _safe_repr(value)}


def _text(artist) -> str:
    return str(artist.get_text())[:MAX_TEXT] if artist is not None else ""


def _encode_axes(ax) -> dict:
    import numpy as np

    lines = []
    for line in ax.get_lines():
        x, y = line.get_data()
        lines.append({
            "label": str(line.get_label())[:MAX_TEXT],
            # plt.plot(x, y, "o") draws a scatter as a Line2D without a line style
            "marker_only": line.get_linestyle() in ("None", "", " ") and line.get_marker() not in ("None", "", None),
            "x": _flat_numbers(np.asarray(x, dtype=float).ravel().tolist()[:MAX_ITEMS], [MAX_ITEMS]),
            "y": _flat_numbers(np.asarray(y, dtype=float).ravel().tolist()[:MAX_ITEMS], [MAX_ITEMS]),
        })
    scatters = []
    for collection in ax.collections:
        offsets = np.asarray(collection.get_offsets(), dtype=float)
        if offsets.ndim != 2 or not len(offsets):
            continue
        scatters.append({
            "label": str(collection.get_label())[:MAX_TEXT],
            "x": _flat_numbers(offsets[:MAX_ITEMS, 0].tolist(), [MAX_ITEMS]),
            "y": _flat_numbers(offsets[:MAX_ITEMS, 1].tolist(), [MAX_ITEMS]),
        })
    legend = ax.get_legend()
    return {
        "t": "axes",
        "type": type(ax).__name__,
        "title": _text(ax.title),
        "xlabel": str(ax.get_xlabel())[:MAX_TEXT],
        "ylabel": str(ax.get_ylabel())[:MAX_TEXT],
        "legend": [_text(t) for t in legend.get_texts()] if legend is not None else None,
        "lines": lines,
        "scatters": scatters,
        "yscale": ax.get_yscale(),
    }


def _encode_matplotlib(value, type_name: str, render: bool) -> dict:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if isinstance(value, Axes):
        return _encode_axes(value)
    if isinstance(value, Figure):
        encoded = {"t": "figure", "type": type_name, "axes": [_encode_axes(ax) for ax in value.axes]}
        if render:
            import base64
            import io

            buffer = io.BytesIO()
            value.savefig(buffer, format="png", dpi=60)
            encoded["png"] = base64.b64encode(buffer.getvalue()).decode("ascii")
        return encoded
    return {"t": "object", "type": type_name, "repr": _safe_repr(value)}
