"""HeedError: a failed call with the details heed-server sends in the
grpc-status-details-bin trailer (google.rpc.Status with ErrorInfo, BadRequest
and RetryInfo). The few messages involved are decoded from the protobuf wire
format here, so that the package does not depend on googleapis-common-protos
(whose google.rpc modules would clash with another copy in one process)."""
from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, List, Optional, Tuple

import grpc

_DETAILS_KEY = "grpc-status-details-bin"
_PUSHBACK_KEY = "grpc-retry-pushback-ms"
_TYPE_PREFIX = "type.googleapis.com/google.rpc."


def _fields(data: bytes) -> Iterator[Tuple[int, int, object]]:
    """Yields (field number, wire type, value) of a protobuf message."""
    i = 0

    def varint() -> int:
        nonlocal i
        shift = result = 0
        while True:
            byte = data[i]
            i += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, wire, varint()
        elif wire == 2:
            length = varint()
            yield number, wire, data[i:i + length]
            i += length
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("unsupported wire type")


def _text(value: object) -> str:
    return bytes(value).decode("utf-8", "replace")


@dataclasses.dataclass(eq=False)
class HeedError(Exception):
    """A call that failed: the gRPC code and message, and what the server said
    about it (empty where it said nothing)."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    metadata: Dict[str, str] = dataclasses.field(default_factory=dict)
    field_violations: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    retry_delay: Optional[float] = None  # seconds

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        if self.reason:
            text += f" [{self.reason}]"
        return text

    @property
    def retryable(self) -> bool:
        return self.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "HeedError":
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = error.details() if hasattr(error, "details") else str(error)
        trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
        return cls.from_parts(code, message or "", trailers or ())

    @classmethod
    def from_parts(cls, code, message, trailers) -> "HeedError":
        result = cls(code=code, message=message)
        for key, value in trailers:
            if key == _DETAILS_KEY:
                result._read_status(value if isinstance(value, bytes) else value.encode())
            elif key == _PUSHBACK_KEY and result.retry_delay is None:
                try:
                    result.retry_delay = int(value) / 1000.0
                except ValueError:
                    pass
        return result

    def _read_status(self, data: bytes) -> None:
        try:
            for number, _, value in _fields(data):
                if number != 3:  # google.rpc.Status.details: repeated Any
                    continue
                type_url, payload = "", b""
                for n, _, v in _fields(bytes(value)):
                    if n == 1:
                        type_url = _text(v)
                    elif n == 2:
                        payload = bytes(v)
                self._read_detail(type_url, payload)
        except (IndexError, ValueError):
            pass  # details are a courtesy; the code and message stand

    def _read_detail(self, type_url: str, payload: bytes) -> None:
        name = type_url[len(_TYPE_PREFIX):] if type_url.startswith(_TYPE_PREFIX) else ""
        if name == "ErrorInfo":
            for n, _, v in _fields(payload):
                if n == 1:
                    self.reason = _text(v)
                elif n == 3:
                    entry = dict((k, _text(x)) for k, _, x in _fields(bytes(v)))
                    self.metadata[entry.get(1, "")] = entry.get(2, "")
        elif name == "BadRequest":
            for n, _, v in _fields(payload):
                if n == 1:
                    violation = dict((k, _text(x)) for k, _, x in _fields(bytes(v)))
                    self.field_violations.append((violation.get(1, ""), violation.get(2, "")))
        elif name == "RetryInfo":
            for n, _, v in _fields(payload):
                if n == 1:
                    parts = dict((k, x) for k, _, x in _fields(bytes(v)))
                    self.retry_delay = parts.get(1, 0) + parts.get(2, 0) / 1e9
