"""safetensors_io.py - the safetensors file format in pure Python (no safetensors package).

Format (https://github.com/huggingface/safetensors, README "Format"):
  8 bytes   little-endian u64 N = length of the JSON header
  N bytes   UTF-8 JSON: {"__metadata__": {str: str}, name: {"dtype": "F32"|"F16"|"BF16"|...,
            "shape": [...], "data_offsets": [begin, end]}, ...}; offsets are relative to the
            start of the data section; the Rust writer pads the header with spaces so that
            the data section starts 8-byte aligned
  data      the tensors' bytes, little-endian, C order, contiguous, no gaps

save_file() writes tensors sorted by name (the reference writer sorts by dtype alignment,
then name; for a single dtype that is the same order). Readers must not depend on it.
"""

import json
import struct

import numpy as np

try:
    import torch
except ImportError:  # reading/writing numpy arrays works without torch
    torch = None

_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
_NP = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
       "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def _dtype_name(t):
    if torch is not None and isinstance(t, torch.Tensor):
        names = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                 torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
                 torch.uint8: "U8", torch.bool: "BOOL"}
        return names[t.dtype]
    for name, npdt in _NP.items():
        if t.dtype == npdt:
            return name
    raise ValueError("unsupported numpy dtype %s" % t.dtype)


def _tensor_bytes(t):
    if torch is not None and isinstance(t, torch.Tensor):
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            # numpy has no bfloat16: reinterpret the 16-bit patterns
            return t.view(torch.int16).numpy().astype("<i2").tobytes()
        return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
    return np.ascontiguousarray(t).astype(t.dtype.newbyteorder("<")).tobytes()


def serialize(tensors, metadata=None, align=8):
    """bytes of a safetensors file holding `tensors` ({name: torch tensor or numpy array})."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        data = _tensor_bytes(t)
        header[name] = {"dtype": _dtype_name(t), "shape": [int(s) for s in t.shape],
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if align > 1:
        hjson += b" " * ((-(8 + len(hjson))) % align)
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(blobs)


def save_file(tensors, path, metadata=None):
    with open(path, "wb") as f:
        f.write(serialize(tensors, metadata))


def parse_header(buf):
    """(header dict, data section start) of a safetensors file's bytes; ValueError if malformed."""
    if len(buf) < 8:
        raise ValueError("file shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError("header length %d beyond the file (%d bytes)" % (n, len(buf)))
    header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    return header, 8 + n


def load_file(path, as_torch=True):
    """{name: tensor} of a safetensors file (torch tensors if available and as_torch, else
    numpy arrays; BF16 comes back as float32 numpy arrays when torch is absent)."""
    with open(path, "rb") as f:
        buf = f.read()
    header, start = parse_header(buf)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        dt, shape = info["dtype"], info["shape"]
        raw = buf[start + b:start + e]
        count = 1
        for s in shape:
            count *= s
        if len(raw) != count * _ITEMSIZE[dt]:
            raise ValueError("%s: %d bytes for shape %s of %s" % (name, len(raw), shape, dt))
        if dt == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32).reshape(shape)
            if torch is not None and as_torch:
                out[name] = torch.from_numpy(arr.copy()).to(torch.bfloat16)
                continue
        else:
            arr = np.frombuffer(raw, dtype=np.dtype(_NP[dt]).newbyteorder("<")).reshape(shape).copy()
        out[name] = torch.from_numpy(arr) if (torch is not None and as_torch) else arr
    return out
