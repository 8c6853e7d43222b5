"""Read CIFAR-10's python batches without unpickling them.

A pickle is a program: `pickle.load` calls whatever globals it names, so a
planted "batch" could run code. This reader walks the opcodes with
`pickletools.genops` and builds plain data only: dicts, lists, tuples, numbers,
strings and bytes, plus numpy arrays recognised from the exact opcode pattern
numpy writes (`_reconstruct`, `dtype`, then `BUILD` with the raw bytes), which
it builds itself with `numpy.frombuffer`. It never imports or calls a global;
any other global or opcode is refused.
"""

from __future__ import annotations

import pickletools

import numpy as np

_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct")}
_FROMBUFFER = {("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}
_KNOWN = _RECONSTRUCT | _FROMBUFFER | {("numpy", "ndarray"), ("numpy", "dtype"),
                                       ("_codecs", "encode")}
_DTYPES = {"u1": np.uint8, "i1": np.int8, "i4": np.int32, "i8": np.int64, "f4": np.float32,
           "f8": np.float64}
_MARK = object()


class UnsafePickle(Exception):
    """The file is not plain data of the kind a CIFAR-10 batch holds."""


class _Global:
    def __init__(self, module: str, name: str) -> None:
        if (module, name) not in _KNOWN:
            raise UnsafePickle(f"it names `{module}.{name}`, which a data batch never does")
        self.key = (module, name)


class _Array:
    """An array under construction (between `_reconstruct` and `BUILD`)."""

    value: np.ndarray | None = None


class _DType:
    def __init__(self, code) -> None:
        code = code.decode("latin-1") if isinstance(code, bytes) else str(code)
        if code not in _DTYPES:
            raise UnsafePickle(f"it holds an array of type `{code}`")
        self.dtype = np.dtype(_DTYPES[code])


def loads(data: bytes):
    """The plain data a pickle describes; raises `UnsafePickle` for anything else."""
    stack: list = []
    memo: dict = {}
    try:
        for op, arg, _ in pickletools.genops(data):
            result = _step(op.name, arg, stack, memo)
            if result is not None:
                return _Finish()(result[0])
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
        raise UnsafePickle(f"it is not a well-formed pickle ({exc})") from None
    raise UnsafePickle("it ends without a STOP opcode")


def _step(name: str, arg, stack: list, memo: dict):
    """Apply one opcode; returns (value,) at STOP."""
    if name in _PUSH:
        stack.append(_PUSH[name](arg))
    elif name in ("PROTO", "FRAME"):
        pass
    elif name == "MARK":
        stack.append(_MARK)
    elif name in ("BINPUT", "LONG_BINPUT"):
        memo[arg] = stack[-1]
    elif name == "MEMOIZE":
        memo[len(memo)] = stack[-1]
    elif name in ("BINGET", "LONG_BINGET"):
        stack.append(memo[arg])
    elif name == "STOP":
        return (stack.pop(),)
    else:
        _build(name, arg, stack)
    return None


_PUSH = {
    "EMPTY_DICT": lambda _: {}, "EMPTY_LIST": lambda _: [], "EMPTY_TUPLE": lambda _: (),
    "NONE": lambda _: None, "NEWTRUE": lambda _: True, "NEWFALSE": lambda _: False,
    "BININT": int, "BININT1": int, "BININT2": int, "LONG1": int, "BINFLOAT": float,
    "SHORT_BINSTRING": lambda a: a.encode("latin-1") if isinstance(a, str) else a,
    "BINSTRING": lambda a: a.encode("latin-1") if isinstance(a, str) else a,
    "BINUNICODE": str, "SHORT_BINUNICODE": str, "BINUNICODE8": str,
    "BINBYTES": bytes, "SHORT_BINBYTES": bytes, "BINBYTES8": bytes, "BYTEARRAY8": bytes,
    "GLOBAL": lambda a: _Global(*a.split(" ", 1)),
}


def _pop_mark(stack: list) -> list:
    at = len(stack) - 1 - stack[::-1].index(_MARK)
    items = stack[at + 1:]
    del stack[at:]
    return items


def _build(name: str, arg, stack: list) -> None:
    if name == "TUPLE":
        stack.append(tuple(_pop_mark(stack)))
    elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
        n = int(name[-1])
        items = tuple(stack[-n:])
        del stack[-n:]
        stack.append(items)
    elif name == "STACK_GLOBAL":
        module_name = stack.pop()
        stack.append(_Global(stack.pop(), module_name))
    elif name == "APPEND":
        item = stack.pop()
        stack[-1].append(item)
    elif name == "APPENDS":
        items = _pop_mark(stack)
        stack[-1].extend(items)
    elif name in ("SETITEM", "SETITEMS"):
        items = [stack.pop(), stack.pop()][::-1] if name == "SETITEM" else _pop_mark(stack)
        target = stack[-1]
        for key, value in zip(items[::2], items[1::2]):
            target[key.decode("latin-1") if isinstance(key, bytes) else key] = value
    elif name == "REDUCE":
        args = stack.pop()
        stack.append(_reduce(stack.pop(), args))
    elif name == "BUILD":
        state = stack.pop()
        _build_state(stack[-1], state)
    else:
        raise UnsafePickle(f"it uses the opcode {name}, which a data batch never does")


def _reduce(func, args):
    """The three calls numpy's and Python's pickles of plain data make, done here."""
    if not isinstance(func, _Global) or not isinstance(args, tuple):
        raise UnsafePickle("it calls something that is not a known constructor")
    if func.key == ("_codecs", "encode"):
        text, codec = args
        if codec not in ("latin1", "latin-1"):
            raise UnsafePickle(f"it encodes text as `{codec}`")
        return str(text).encode("latin-1")
    if func.key in _RECONSTRUCT:
        return _Array()
    if func.key == ("numpy", "dtype"):
        return _DType(args[0])
    if func.key in _FROMBUFFER:     # protocol 5: (bytes, dtype, shape, order)
        raw, dtype, shape, order = args
        target = _Array()
        _build_state(target, (1, shape, dtype, order == "F", raw))
        return target
    raise UnsafePickle(f"it calls `{'.'.join(func.key)}`")


def _build_state(target, state) -> None:
    if isinstance(target, _DType):
        return          # byte order and flags: the codes we accept are single bytes or native
    if not isinstance(target, _Array) or not isinstance(state, tuple) or len(state) != 5:
        raise UnsafePickle("it sets the state of something that is not an array")
    _, shape, dtype, fortran, raw = state
    if not isinstance(dtype, _DType) or not all(isinstance(n, int) for n in shape):
        raise UnsafePickle("it holds an array of an unknown kind")
    raw = raw.encode("latin-1") if isinstance(raw, str) else raw
    if not isinstance(raw, (bytes, bytearray)):
        raise UnsafePickle("it holds an array whose data are not bytes")
    array = np.frombuffer(raw, dtype=dtype.dtype)
    target.value = array.reshape(shape, order="F" if fortran else "C")


#: a CIFAR batch is a dict of lists and one array: two levels deep, some 20,000 values
MAX_DEPTH = 32
#: values in the finished data, each shared reference counted again where it is used
#: (a CIFAR-10 batch holds some 20,000: 10,000 labels and 10,000 file names)
MAX_VALUES = 1 << 17


class _Finish:
    """The plain data a pickle built, as a tree (no shared or cyclic references left for
    a later reader to expand): bounded in depth and in values, counted as expanded, so a
    few hundred bytes of references to references cannot grow to gigabytes."""

    def __init__(self) -> None:
        self.values = 0
        self.open: set[int] = set()       # the containers on the way down to this value

    def __call__(self, value, depth: int = 0):
        self.values += 1
        if self.values > MAX_VALUES:
            raise UnsafePickle(f"it holds over {MAX_VALUES:,} values once its shared "
                               "references are expanded, far more than a data batch")
        if isinstance(value, _Array):
            if value.value is None:
                raise UnsafePickle("it holds an array without data")
            return value.value
        if isinstance(value, (_Global, _DType)):
            raise UnsafePickle("it holds a reference to code")
        if not isinstance(value, (dict, list, tuple)):
            return value
        return self._container(value, depth)

    def _container(self, value, depth: int):
        if depth >= MAX_DEPTH:
            raise UnsafePickle(f"it is nested over {MAX_DEPTH} levels deep, which a data "
                               "batch never is")
        if id(value) in self.open:
            raise UnsafePickle("it holds a list, tuple or dict that contains itself")
        self.open.add(id(value))
        try:
            if isinstance(value, dict):
                return {self(k, depth + 1): self(v, depth + 1) for k, v in value.items()}
            items = [self(v, depth + 1) for v in value]
            return items if isinstance(value, list) else tuple(items)
        finally:
            self.open.discard(id(value))
