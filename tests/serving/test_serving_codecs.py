"""Content-type decoding, Accept negotiation and encoding, in-process."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

from serving import codecs
from serving.errors import BadRequest, UnsupportedAccept, UnsupportedContentType


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("text/*", "text/csv"),
        ("text/csv", "text/csv"),
        ("Application/X-NPY", "application/x-npy"),
        ("application/xml, text/csv", "text/csv"),
        ("text/csv;q=0.2, application/json;q=0.9", "application/json"),
        ("application/json;q=0, text/csv", "text/csv"),
        ("text/html;q=1, */*;q=0.1", "application/json"),
        ("application/xml", None),
        ("application/json;q=0", None),
    ],
)
def test_negotiate(header: str | None, expected: str | None) -> None:
    assert codecs.negotiate(header) == expected


def test_media_type_drops_parameters() -> None:
    assert codecs.media_type("Text/CSV; charset=utf-8") == "text/csv"
    assert codecs.media_type(None) == "application/json"


@pytest.mark.parametrize("body", [b"[[1, 2], [3, 4]]", b'{"instances": [[1, 2], [3, 4]]}', b"[[1.0, 2.0], [3.0, 4.0]]"])
def test_decode_json_rows(body: bytes) -> None:
    tensor = codecs.decode(body, "application/json")
    assert tensor.dtype == torch.float32
    assert tensor.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_decode_json_flat_list_is_one_row() -> None:
    assert codecs.decode(b"[1, 2, 3]", "application/json").shape == (1, 3)


@pytest.mark.parametrize("body", [b"", b"{", b"7", b"[]", b'{"x": 1}', b'"text"', b"[[1], [2, 3]]", b'[["a"]]'])
def test_decode_json_rejects(body: bytes) -> None:
    with pytest.raises(BadRequest):
        codecs.decode(body, "application/json")


def test_decode_csv() -> None:
    assert codecs.decode(b"1,2\r\n3,4\n\n", "text/csv").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert codecs.decode(b"5\n6\n", "text/csv").shape == (2, 1)
    for bad in (b"", b"x,y\n1,2\n", b"1,2\n3\n", b"\xff\xfe"):
        with pytest.raises(BadRequest):
            codecs.decode(bad, "text/csv")


def test_decode_npy_keeps_ints_and_makes_floats_float32() -> None:
    def npy(a: np.ndarray) -> bytes:
        buf = io.BytesIO()
        np.save(buf, a)
        return buf.getvalue()

    assert codecs.decode(npy(np.ones((2, 3), dtype=np.float64)), "application/x-npy").dtype == torch.float32
    ints = codecs.decode(npy(np.arange(3)), "application/x-npy")
    assert ints.dtype == torch.int64 and ints.shape == (1, 3)
    for bad in (b"garbage", npy(np.asarray(1.0)), npy(np.array([], dtype=np.float32)), npy(np.array(["a"]))):
        with pytest.raises(BadRequest):
            codecs.decode(bad, "application/x-npy")


def test_decode_pickled_npy_is_refused() -> None:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(BadRequest):
        codecs.decode(buf.getvalue(), "application/x-npy")


def test_unsupported_content_type() -> None:
    with pytest.raises(UnsupportedContentType) as info:
        codecs.decode(b"<x/>", "application/xml")
    assert info.value.status == 415


def test_encode_each_type() -> None:
    prediction = torch.tensor([[1.5, 2.0], [3.0, 4.25]])
    body, ctype = codecs.encode(prediction, "application/json")
    assert (json.loads(body), ctype) == ([[1.5, 2.0], [3.0, 4.25]], "application/json")
    body, ctype = codecs.encode(prediction, "text/csv")
    assert (body, ctype) == (b"1.5,2.0\n3.0,4.25\n", "text/csv")
    body, ctype = codecs.encode(prediction, "application/x-npy")
    assert ctype == "application/x-npy"
    assert np.load(io.BytesIO(body)).tolist() == [[1.5, 2.0], [3.0, 4.25]]
    assert codecs.encode(torch.tensor([1.0, 2.0]), "text/csv")[0] == b"1.0\n2.0\n"
    assert json.loads(codecs.encode({"p": np.float32(0.5), "rows": (1, 2)}, "*/*")[0]) == {"p": 0.5, "rows": [1, 2]}
    with pytest.raises(UnsupportedAccept):
        codecs.encode(prediction, "image/png")
