"""Exported policy files: Python export -> C++ load round trip, planner parity, rejection of
truncated / corrupted / foreign files, and a fuzz test of the C++ loader."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

import mbrlhpo
from mbrlhpo import _native
from mbrlhpo.planning.export import (
    FORMAT,
    FORMAT_VERSION,
    PolicyFileError,
    export_agent,
    export_policy,
    policy_checksum,
    read_policy,
)

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")


def _core():
    return _native.core()


def _agent(seed: int = 3, **hparams) -> mbrlhpo.PETSAgent:
    """A cartpole agent whose normaliser and biases are not at their trivial initial values."""
    agent = mbrlhpo.PETSAgent(
        "cartpole", hparams or None, seed=seed, profile="quick", planner_backend="cpu"
    )
    gen = torch.Generator().manual_seed(seed)
    d = agent.model.input_dim
    agent.model.normalizer.fit(torch.randn(64, d, generator=gen, dtype=torch.float64) * 2 + 0.5)
    with torch.no_grad():
        for b in agent.model.ensemble.biases:
            b.add_(0.1 * torch.randn(b.shape, generator=gen))
    return agent


@pytest.fixture(scope="module")
def agent() -> mbrlhpo.PETSAgent:
    return _agent()


@pytest.fixture(scope="module")
def exported(agent, tmp_path_factory) -> Path:
    return export_agent(agent, tmp_path_factory.mktemp("export") / "policy.safetensors")


@pytest.fixture(scope="module")
def small_file(tmp_path_factory) -> bytes:
    """A small valid policy file (hidden 8, depth 2) for the fuzz and corruption tests."""
    small = _agent(seed=5, hidden=8, depth=2, ensemble_size=2, particles=4)
    path = export_agent(small, tmp_path_factory.mktemp("small") / "small.safetensors")
    return path.read_bytes()


# ---------------------------------------------------------------------------- raw file helpers
def _split(data: bytes) -> tuple[dict, bytes]:
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join(header: dict | str, payload: bytes) -> bytes:
    text = header if isinstance(header, str) else json.dumps(header)
    raw = text.encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + payload


def _rewrite(
    path: Path,
    data: bytes,
    *,
    arrays: dict | None = None,
    meta: dict | None = None,
    fix_checksum: bool = True,
) -> Path:
    """Rewrites a valid file with changed arrays / metadata (checksum recomputed if asked)."""
    src = path.parent / "src.safetensors"
    src.write_bytes(data)
    metadata, tensors = read_policy(src)
    tensors.update(arrays or {})
    tensors = {k: v for k, v in tensors.items() if v is not None}
    metadata.update(meta or {})
    metadata = {k: v for k, v in metadata.items() if v is not None}
    if fix_checksum:
        metadata["sha256"] = policy_checksum(tensors, metadata)
    save_file(tensors, str(path), metadata=metadata)
    return path


def _load_bytes(data: bytes):
    from mbrlhpo import _core_testing

    return _core_testing.parse_model_file(data)


# ---------------------------------------------------------------------------- round trip
def test_round_trip_arrays_and_metadata(agent, exported):
    meta, arrays = _core().load_model_file(str(exported))
    w = agent.model.planner_weights()
    assert len(w.weights) == agent.hparams.depth + 1
    for i, (weight, bias) in enumerate(zip(w.weights, w.biases, strict=True)):
        np.testing.assert_array_equal(arrays[f"layer{i}.weight"], weight.numpy())
        np.testing.assert_array_equal(arrays[f"layer{i}.bias"], bias.numpy())
        assert arrays[f"layer{i}.weight"].shape == tuple(weight.shape)
    for name in ("max_logvar", "min_logvar", "input_mean", "input_std"):
        np.testing.assert_array_equal(arrays[name], getattr(w, name).numpy())
    np.testing.assert_array_equal(arrays["action_low"], agent.task.action_low.astype(np.float32))
    np.testing.assert_array_equal(arrays["action_high"], agent.task.action_high.astype(np.float32))
    assert set(arrays) == {
        f"layer{i}.{k}" for i in range(len(w.weights)) for k in ("weight", "bias")
    } | {"max_logvar", "min_logvar", "input_mean", "input_std", "action_low", "action_high"}

    c = agent.planner.config
    h = agent.hparams
    assert meta["format"] == FORMAT == _core().MODEL_FILE_FORMAT
    assert meta["format_version"] == str(FORMAT_VERSION) == str(_core().MODEL_FILE_VERSION)
    assert meta["mbrlhpo_version"] == mbrlhpo.__version__
    assert meta["task"] == "cartpole"
    assert (meta["obs_dim"], meta["act_dim"], meta["input_dim"]) == ("4", "1", "6")
    assert meta["ensemble_size"] == str(h.ensemble_size)
    assert meta["layer_sizes"] == ",".join(["6"] + [str(h.hidden)] * h.depth + ["8"])
    assert meta["num_layers"] == str(h.depth + 1)
    assert int(meta["cem.horizon"]) == c.horizon == h.horizon
    assert int(meta["cem.population"]) == c.population
    assert int(meta["cem.num_elites"]) == c.num_elites
    assert int(meta["cem.iterations"]) == c.iterations
    assert int(meta["cem.particles"]) == c.particles
    assert float(meta["cem.alpha"]) == c.alpha and float(meta["cem.elite_ratio"]) == c.elite_ratio
    assert meta["seed"] == str(agent.planner.seed)
    assert meta["mjcf"] == Path(agent.task.model_file).read_text()
    # The Python reader (safetensors + hashlib) sees exactly what the C++ loader sees.
    py_meta, py_arrays = read_policy(exported)
    assert py_meta == meta
    assert py_arrays.keys() == arrays.keys()
    for k in arrays:
        np.testing.assert_array_equal(py_arrays[k], arrays[k])
    assert meta["sha256"] == policy_checksum(py_arrays, py_meta)
    # Bytes in memory load the same as the file.
    meta2, arrays2 = _load_bytes(exported.read_bytes())
    assert meta2 == meta and all(np.array_equal(arrays2[k], arrays[k]) for k in arrays)


def test_native_sha256_matches_hashlib():
    from mbrlhpo import _core_testing

    rng = np.random.default_rng(0)
    for n in (0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 4097):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert _core_testing.sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_export_rejects_bad_models(agent, tmp_path):
    bad = _agent(seed=1)
    with torch.no_grad():
        bad.model.ensemble.weights[1][0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="layer1.weight contains NaN"):
        export_agent(bad, tmp_path / "nan.safetensors")
    assert not (tmp_path / "nan.safetensors").exists()
    reacher = mbrlhpo.get_task("reacher")
    with pytest.raises(ValueError, match="input width"):
        export_policy(tmp_path / "x.safetensors", reacher, agent.model, agent.planner.config, 0)
    with pytest.raises(ValueError, match="seed"):
        export_policy(tmp_path / "x.safetensors", agent.task, agent.model, agent.planner.config, -1)


# ---------------------------------------------------------------------------- planner parity
@pytest.mark.parametrize("threads", [1, 2])
def test_file_planner_matches_python_native_planner(exported, threads):
    agent = _agent()  # the same weights as the exported agent, fresh planner state
    planner = _core().FilePlanner(str(exported), num_threads=threads)
    assert planner.seed == agent.planner.seed == 3
    assert planner.task == "cartpole" and (planner.obs_dim, planner.act_dim) == (4, 1)
    rng = np.random.default_rng(1)
    for _ in range(4):  # an episode: warm start and plan counter carry over
        obs = rng.normal(size=4).astype(np.float32)
        a_py = agent.planner.plan(obs)
        a_cpp = planner.act(obs)
        np.testing.assert_array_equal(a_cpp, a_py)
        assert planner.step == agent.planner.step
        np.testing.assert_array_equal(planner.warm_start, agent.planner.warm_start)
    # Any plan counter and warm start (e.g. mid-episode in Python): set them, same action.
    agent.planner.step = 1234
    planner.step = 1234
    ws = rng.uniform(-1, 1, size=planner.warm_start.shape).astype(np.float32)
    agent.planner.set_state({"warm_start": ws, "step": np.array(1234)})
    planner.warm_start = ws
    obs = rng.normal(size=4).astype(np.float32)
    np.testing.assert_array_equal(planner.act(obs), agent.planner.plan(obs))
    planner.reset()
    agent.planner.reset()
    np.testing.assert_array_equal(planner.warm_start, agent.planner.warm_start)
    # Another seed gives another plan (the seed is really used).
    other = _core().FilePlanner(str(exported), seed=4, num_threads=threads)
    first = _core().FilePlanner(str(exported), num_threads=threads)
    obs = np.array([0.3, -0.2, 0.1, 0.5], np.float32)
    assert not np.array_equal(other.act(obs), first.act(obs))


def test_file_planner_rejects_bad_obs(exported):
    planner = _core().FilePlanner(str(exported), num_threads=1)
    with pytest.raises(ValueError, match=r"expected obs of shape \(4,\)"):
        planner.act(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="NaN or inf"):
        planner.act(np.array([0, np.nan, 0, 0], np.float32))
    horizon = planner.warm_start.shape[0]
    with pytest.raises(ValueError, match=rf"warm start of shape \({horizon}, 1\)"):
        planner.warm_start = np.zeros((horizon + 1, 1), np.float32)


# ---------------------------------------------------------------------------- rejection
def test_truncated_files_are_rejected(small_file, tmp_path):
    n = len(small_file)
    header_len = struct.unpack("<Q", small_file[:8])[0]
    for cut in (
        0,
        4,
        7,
        8,
        9,
        8 + header_len // 2,
        8 + header_len,
        8 + header_len + 5,
        n - 4,
        n - 1,
    ):
        with pytest.raises(ValueError, match="truncated|corrupt"):
            _load_bytes(small_file[:cut])
        path = tmp_path / f"cut{cut}.safetensors"
        path.write_bytes(small_file[:cut])
        with pytest.raises(ValueError, match="truncated|corrupt"):
            _core().load_model_file(str(path))
        with pytest.raises(PolicyFileError):
            read_policy(path)
    with pytest.raises(ValueError, match="truncated: the header says"):
        _load_bytes(small_file[: 8 + header_len - 1])
    with pytest.raises(ValueError, match="truncated: the header describes"):
        _load_bytes(small_file[:-1])


def test_flipped_bytes_fail_the_checksum(small_file):
    header_len = struct.unpack("<Q", small_file[:8])[0]
    data_start = 8 + header_len
    for pos in (data_start, data_start + 17, len(small_file) - 1):
        data = bytearray(small_file)
        data[pos] ^= 0x10
        with pytest.raises(ValueError, match="checksum mismatch"):
            _load_bytes(bytes(data))
    # A flipped character inside a metadata value (the CEM horizon) is caught too.
    header, payload = _split(small_file)
    header["__metadata__"]["cem.horizon"] = "16"
    with pytest.raises(ValueError, match="checksum mismatch"):
        _load_bytes(_join(header, payload))


def test_wrong_version_format_and_magic(small_file, tmp_path):
    path = tmp_path / "v.safetensors"
    _rewrite(path, small_file, meta={"format_version": "2"})
    with pytest.raises(
        ValueError, match="policy format version '2' is not supported.*reads version 1"
    ):
        _core().load_model_file(str(path))
    with pytest.raises(PolicyFileError, match="version"):
        read_policy(path)
    _rewrite(path, small_file, meta={"format": "mbrlhpo-checkpoint"})
    with pytest.raises(ValueError, match="not an mbrlhpo policy file .format 'mbrlhpo-check"):
        _core().load_model_file(str(path))
    _rewrite(path, small_file, meta={"format": None})
    with pytest.raises(ValueError, match="not an mbrlhpo policy file .no 'format'"):
        _core().load_model_file(str(path))
    # Not safetensors at all: text, an empty file, a header that is not JSON.
    for data, message in (
        (b"<mujoco model='x'/>\n" * 4, "absurd header size"),
        (b"", "truncated"),
        (struct.pack("<Q", 8) + b"[1,2,3] ", "does not start with '{'"),
        (struct.pack("<Q", 8) + b'{"a":1}', "truncated"),
    ):
        with pytest.raises(ValueError, match=message):
            _load_bytes(data)
    with pytest.raises(ValueError, match="cannot open model file"):
        _core().load_model_file(str(tmp_path / "missing.safetensors"))


def test_absurd_header_sizes(small_file):
    for size in (2**64 - 1, 2**63, 2**40, (64 << 20) + 1):
        with pytest.raises(ValueError, match="absurd header size"):
            _load_bytes(struct.pack("<Q", size) + small_file[8:])
    for size in (0, 1):
        with pytest.raises(ValueError, match="too small"):
            _load_bytes(struct.pack("<Q", size) + small_file[8:])


def test_wrong_shapes_and_contents(small_file, tmp_path):
    path = tmp_path / "s.safetensors"
    _, arrays = read_policy(_rewrite(path, small_file))
    w0 = arrays["layer0.weight"]
    cases = [
        (
            {"arrays": {"layer0.weight": w0[:, :-1].copy()}},
            "expected tensor 'layer0.weight' of "
            r"shape \(2, 6, 8\), got \(2, 5, 8\)",
        ),
        ({"arrays": {"input_std": np.zeros((1, 6), np.float32)}}, "input_std must be positive"),
        ({"arrays": {"layer1.bias": np.full((2, 1, 8), np.inf, np.float32)}}, "NaN or inf"),
        ({"arrays": {"max_logvar": None}}, "tensor 'max_logvar' is missing"),
        ({"arrays": {"extra": np.zeros(2, np.float32)}}, "unexpected tensor 'extra'"),
        ({"arrays": {"action_low": np.zeros(1, np.float64)}}, "of dtype F32, got F64"),
        ({"meta": {"task": "walker"}}, "no native planner task named 'walker'"),
        ({"meta": {"task": "reacher"}}, "do not match task 'reacher'"),
        ({"meta": {"layer_sizes": "6,8,8,9"}}, "do not fit task 'cartpole'"),
        ({"meta": {"layer_sizes": "6,8,,8"}}, "expected comma-separated positive integers"),
        ({"meta": {"cem.horizon": "-3"}}, r"'cem.horizon' = '-3'; expected an integer in \[1,"),
        ({"meta": {"cem.alpha": "nan"}}, "'cem.alpha' = 'nan'; expected a finite number"),
        ({"meta": {"cem.particles": "3"}}, "particles"),
        (
            {"meta": {"cem.population": str(1 << 24), "cem.particles": str(1 << 20)}},
            r"need about \d+(\.\d+)? GiB of planner memory; expected at most 16 GiB",
        ),
        ({"meta": {"seed": "18446744073709551616"}}, "'seed'"),
        ({"meta": {"mjcf": None}}, "metadata 'mjcf' is missing"),
    ]
    for change, message in cases:
        if "arrays" in change and any(
            v is not None and v.dtype != np.float32 for v in change["arrays"].values()
        ):
            # policy_checksum hashes float32 only: build this case's checksum by hand.
            _rewrite(path, small_file, arrays=change["arrays"], fix_checksum=False)
            header, payload = _split(path.read_bytes())
            header["__metadata__"]["sha256"] = _checksum_any(header, payload)
            path.write_bytes(_join(header, payload))
        else:
            _rewrite(path, small_file, **change)
        with pytest.raises(ValueError, match=message):
            _core().load_model_file(str(path))


def _checksum_any(header: dict, payload: bytes) -> str:
    """The format's checksum computed from a raw header (any dtype): an independent check."""
    h = hashlib.sha256()
    for name in sorted(k for k in header if k != "__metadata__"):
        t = header[name]
        begin, end = t["data_offsets"]
        h.update(
            b"T"
            + name.encode()
            + b"\0"
            + t["dtype"].encode()
            + b"\0"
            + ",".join(map(str, t["shape"])).encode()
            + b"\0"
            + payload[begin:end]
        )
    meta = header.get("__metadata__", {})
    for key in sorted(meta):
        if key != "sha256":
            h.update(b"M" + key.encode() + b"\0" + meta[key].encode() + b"\0")
    return h.hexdigest()


def test_checksum_definition_is_independent_of_layout(small_file):
    """Reordering tensors in the data buffer and keys in the header keeps the file valid."""
    header, payload = _split(small_file)
    assert _checksum_any(header, payload) == header["__metadata__"]["sha256"]
    names = sorted((k for k in header if k != "__metadata__"), reverse=True)
    new_header: dict = {"__metadata__": header["__metadata__"]}
    new_payload = b""
    for name in names:
        begin, end = header[name]["data_offsets"]
        new_header[name] = dict(
            header[name], data_offsets=[len(new_payload), len(new_payload) + end - begin]
        )
        new_payload += payload[begin:end]
    meta_a, arrays_a = _load_bytes(_join(new_header, new_payload))
    meta_b, arrays_b = _load_bytes(small_file)
    assert meta_a == meta_b and all(np.array_equal(arrays_a[k], arrays_b[k]) for k in arrays_b)


def test_malformed_headers(small_file):
    header, payload = _split(small_file)
    text = json.dumps(header)
    name = "layer0.bias"
    begin, end = header[name]["data_offsets"]
    bad = {
        "duplicate key": (
            text[:-1] + ', "max_logvar": ' + json.dumps(header["max_logvar"]) + "}",
            "appears twice",
        ),
        "trailing bytes": (text + " x", "unexpected bytes after the header"),
        "negative": (
            text.replace(f'"data_offsets": [{begin}, {end}]', f'"data_offsets": [-{begin}, {end}]'),
            "non-negative integer",
        ),
        "float offset": (
            text.replace(
                f'"data_offsets": [{begin}, {end}]', f'"data_offsets": [{begin}.0, {end}]'
            ),
            "fractional",
        ),
        "overlap": (
            text.replace(
                f'"data_offsets": [{begin}, {end}]', f'"data_offsets": [{begin + 4}, {end + 4}]'
            ),
            "overlapping|after|truncated",
        ),
        "span": (
            text.replace(
                f'"data_offsets": [{begin}, {end}]', f'"data_offsets": [{begin}, {end - 4}]'
            ),
            "needs",
        ),
        "dtype": (text.replace('"F32"', '"F33"', 1), "unknown dtype 'F33'"),
        "key": (text.replace('"shape"', '"shapes"', 1), "unexpected key 'shapes'"),
        "rank": (
            text.replace(
                f'"shape": {json.dumps(header[name]["shape"])}', '"shape": [1,1,1,1,1,1,1,1,16]'
            ),
            "rank <= 8",
        ),
        "huge dim": (
            text.replace(
                f'"shape": {json.dumps(header[name]["shape"])}',
                '"shape": [4294967296, 4294967296, 4294967296]',
            ),
            "too large|larger",
        ),
        "metadata value": (
            text.replace('"format_version": "1"', '"format_version": 1'),
            "is not a string",
        ),
        "nul": (text.replace('"format": "', '"format": "\\u0000', 1), "NUL"),
        "unclosed": (text[:-1], "header ends|expected"),
        "lone surrogate": (text.replace('"format": "', '"format": "\\udc00', 1), "surrogate"),
    }
    for case, (new_text, message) in bad.items():
        with pytest.raises(ValueError, match=message):
            _load_bytes(_join(new_text, payload))
        assert case
    # Raw invalid UTF-8 in a string.
    raw = _join(text, payload)
    i = raw.index(b'"format": "') + len(b'"format": "')
    with pytest.raises(ValueError, match="invalid UTF-8"):
        _load_bytes(raw[:i] + b"\xc0\xaf" + raw[i + 2 :])
    # Whitespace and escapes are JSON: an equivalent header loads.
    loose = text.replace('"F32"', '"\\u0046\\u00332"')
    for key in ('"dtype": ', '"shape": ', '"data_offsets": '):
        loose = loose.replace(key, key[:-2] + " :\n\t ")
    assert _load_bytes(_join(loose, payload))[0] == _load_bytes(small_file)[0]


# ---------------------------------------------------------------------------- fuzz
def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    header_end = 8 + struct.unpack("<Q", data[:8])[0]
    kind = rng.integers(9)
    pos = int(rng.integers(len(b)))
    hpos = int(rng.integers(header_end))  # most structure lives in the header
    if kind == 0:
        b[pos] ^= 1 << int(rng.integers(8))
    elif kind == 1:
        b[hpos] ^= 1 << int(rng.integers(8))
    elif kind == 2:
        b[hpos] = int(rng.choice(list(b'{}[]",:0123456789-. \\u')))
    elif kind == 3:
        del b[int(rng.integers(len(b))) :]
    elif kind == 4:
        b.insert(hpos, int(rng.integers(256)))
    elif kind == 5:
        del b[hpos : hpos + int(rng.integers(1, 16))]
    elif kind == 6:
        b[:8] = struct.pack("<Q", int(rng.integers(2**63)) >> int(rng.integers(64)))
    elif kind == 7:
        n = int(rng.integers(1, 32))
        src = int(rng.integers(max(1, header_end - n)))
        b[hpos:hpos] = b[src : src + n]
    else:
        for _ in range(int(rng.integers(2, 6))):
            p = int(rng.integers(len(b)))
            b[p] = int(rng.integers(256))
    return bytes(b)


def test_fuzz_loader_never_crashes(small_file):
    """5000 random mutations: each either loads unchanged contents (the checksum held) or
    raises ValueError; a crash would kill the test process."""
    rng = np.random.default_rng(2024)
    meta0, arrays0 = _load_bytes(small_file)
    outcomes = {"loaded": 0, "rejected": 0}
    for _ in range(5000):
        data = _mutate(small_file, rng)
        try:
            meta, arrays = _load_bytes(data)
        except ValueError as exc:
            assert str(exc)
            outcomes["rejected"] += 1
            continue
        outcomes["loaded"] += 1
        assert meta == meta0
        assert arrays.keys() == arrays0.keys()
        assert all(np.array_equal(arrays[k], arrays0[k]) for k in arrays0)
    assert outcomes["rejected"] > 4000
