"""Client (blocking) and AsyncClient (asyncio, grpc.aio) for heed-server.

Every call has a deadline (`timeout`, seconds), sends the bearer token when
one is given, and is retried on UNAVAILABLE and RESOURCE_EXHAUSTED after the
delay the server asks for (RetryInfo), else after an exponential backoff,
while the deadline allows and at most `max_attempts` times. A stream is
retried only before its first message. Failures raise HeedError."""
from __future__ import annotations

import asyncio
import random
import time
from typing import AsyncIterator, Iterator, List, Optional, Sequence

import grpc
import grpc.aio

from heed._errors import HeedError
from heed._options import (classify_request, generation_request, health_request,
                           health_status, list_request, tokenize_request)
from heed.v1 import inference_pb2 as pb
from heed.v1 import inference_pb2_grpc as pb_grpc

_HEALTH_CHECK = "/grpc.health.v1.Health/Check"


def _credentials(tls: bool, root_certificates: Optional[bytes]):
    if tls or root_certificates is not None:
        return grpc.ssl_channel_credentials(root_certificates=root_certificates)
    return None


def _backoff(attempt: int) -> float:
    return min(2.0, 0.1 * (2 ** attempt)) * (0.5 + random.random() / 2)


class _Base:
    def __init__(self, address: str, token: Optional[str], timeout: float,
                 max_attempts: int):
        self.address = address
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()

    def _next_delay(self, error: HeedError, attempt: int, deadline: float) -> Optional[float]:
        """Seconds to wait before another attempt, or None to give up."""
        if not error.retryable or attempt + 1 >= self.max_attempts:
            return None
        delay = error.retry_delay if error.retry_delay is not None else _backoff(attempt)
        return delay if time.monotonic() + delay < deadline else None


class Client(_Base):
    """heed-server over a blocking gRPC channel. Use as a context manager or
    call close()."""

    def __init__(self, address: str = "127.0.0.1:50051", *, token: Optional[str] = None,
                 timeout: float = 30.0, max_attempts: int = 4, tls: bool = False,
                 root_certificates: Optional[bytes] = None):
        super().__init__(address, token, timeout, max_attempts)
        credentials = _credentials(tls, root_certificates)
        self._channel = (grpc.secure_channel(address, credentials) if credentials
                         else grpc.insecure_channel(address))
        self._stub = pb_grpc.InferenceStub(self._channel)
        self._health = self._channel.unary_unary(_HEALTH_CHECK)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _unary(self, method, request):
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            try:
                return method(request, timeout=max(0.0, deadline - time.monotonic()),
                              metadata=self._metadata)
            except grpc.RpcError as e:
                error = HeedError.from_rpc_error(e)
                delay = self._next_delay(error, attempt, deadline)
                if delay is None:
                    raise error from None
                time.sleep(delay)
                attempt += 1

    def _stream(self, method, request) -> Iterator:
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            received = False
            try:
                for message in method(request, timeout=max(0.0, deadline - time.monotonic()),
                                      metadata=self._metadata):
                    received = True
                    yield message
                return
            except grpc.RpcError as e:
                error = HeedError.from_rpc_error(e)
                delay = None if received else self._next_delay(error, attempt, deadline)
                if delay is None:
                    raise error from None
                time.sleep(delay)
                attempt += 1

    def translate(self, text: str, *, model: str = "", truncate_input: bool = False,
                  return_alignment: bool = False, priority: Optional[str] = None,
                  **options) -> pb.TranslateResponse:
        """Options: max_output_tokens, min_output_tokens, beam_size,
        length_penalty, no_repeat_ngram_size, no_adjacent_repeat_ngram_size,
        num_return_sequences, repetition_penalty, encoder_repetition_penalty;
        temperature, top_k, top_p, seed (sampling)."""
        return self._unary(self._stub.Translate, generation_request(
            pb.TranslateRequest, text, model, truncate_input, return_alignment, priority,
            options))

    def translate_stream(self, text: str, *, model: str = "", truncate_input: bool = False,
                         priority: Optional[str] = None,
                         **options) -> Iterator[pb.TranslateStreamResponse]:
        """Messages as they come: `delta.text` pieces, then one `done`."""
        return self._stream(self._stub.TranslateStream, generation_request(
            pb.TranslateRequest, text, model, truncate_input, False, priority, options))

    def summarize(self, text: str, *, model: str = "", truncate_input: bool = False,
                  return_alignment: bool = False, priority: Optional[str] = None,
                  **options) -> pb.SummarizeResponse:
        return self._unary(self._stub.Summarize, generation_request(
            pb.SummarizeRequest, text, model, truncate_input, return_alignment, priority,
            options))

    def summarize_stream(self, text: str, *, model: str = "", truncate_input: bool = False,
                         priority: Optional[str] = None,
                         **options) -> Iterator[pb.SummarizeStreamResponse]:
        return self._stream(self._stub.SummarizeStream, generation_request(
            pb.SummarizeRequest, text, model, truncate_input, False, priority, options))

    def classify(self, texts: Sequence[str] | str, *, model: str = "",
                 long_input: Optional[str] = None, return_alignment: bool = False,
                 priority: Optional[str] = None) -> pb.ClassifySentimentResponse:
        """long_input: None (the model's default), "error", "truncate" or "chunks"."""
        return self._unary(self._stub.ClassifySentiment, classify_request(
            texts, model, long_input, return_alignment, priority))

    def models(self, task: Optional[str] = None) -> List[pb.Model]:
        return list(self._unary(self._stub.ListModels, list_request(task)).models)

    def model(self, name: str) -> pb.Model:
        return self._unary(self._stub.GetModel, pb.GetModelRequest(name=name))

    def server_info(self) -> pb.ServerInfo:
        return self._unary(self._stub.GetServerInfo, pb.GetServerInfoRequest())

    def tokenize(self, text: str, *, model: str = "",
                 task: Optional[str] = None) -> pb.TokenizeResponse:
        """The tokens `model` (or the default model of `task`) makes of `text`."""
        return self._unary(self._stub.Tokenize, tokenize_request(text, model, task))

    def health(self, service: str = "") -> str:
        """SERVING, NOT_SERVING, ... of the server or of `service`."""
        return health_status(self._unary(
            self._health, health_request(service)))


class AsyncClient(_Base):
    """The same calls on grpc.aio, for asyncio programs."""

    def __init__(self, address: str = "127.0.0.1:50051", *, token: Optional[str] = None,
                 timeout: float = 30.0, max_attempts: int = 4, tls: bool = False,
                 root_certificates: Optional[bytes] = None):
        super().__init__(address, token, timeout, max_attempts)
        credentials = _credentials(tls, root_certificates)
        self._channel = (grpc.aio.secure_channel(address, credentials) if credentials
                         else grpc.aio.insecure_channel(address))
        self._stub = pb_grpc.InferenceStub(self._channel)
        self._health = self._channel.unary_unary(_HEALTH_CHECK)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _unary(self, method, request):
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            try:
                return await method(request, timeout=max(0.0, deadline - time.monotonic()),
                                    metadata=self._metadata)
            except grpc.aio.AioRpcError as e:
                error = HeedError.from_parts(e.code(), e.details() or "",
                                             e.trailing_metadata() or ())
                delay = self._next_delay(error, attempt, deadline)
                if delay is None:
                    raise error from None
                await asyncio.sleep(delay)
                attempt += 1

    async def _stream(self, method, request) -> AsyncIterator:
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            received = False
            try:
                call = method(request, timeout=max(0.0, deadline - time.monotonic()),
                              metadata=self._metadata)
                async for message in call:
                    received = True
                    yield message
                return
            except grpc.aio.AioRpcError as e:
                error = HeedError.from_parts(e.code(), e.details() or "",
                                             e.trailing_metadata() or ())
                delay = None if received else self._next_delay(error, attempt, deadline)
                if delay is None:
                    raise error from None
                await asyncio.sleep(delay)
                attempt += 1

    async def translate(self, text: str, *, model: str = "", truncate_input: bool = False,
                        return_alignment: bool = False, priority: Optional[str] = None,
                        **options) -> pb.TranslateResponse:
        return await self._unary(self._stub.Translate, generation_request(
            pb.TranslateRequest, text, model, truncate_input, return_alignment, priority,
            options))

    def translate_stream(self, text: str, *, model: str = "", truncate_input: bool = False,
                         priority: Optional[str] = None,
                         **options) -> AsyncIterator[pb.TranslateStreamResponse]:
        return self._stream(self._stub.TranslateStream, generation_request(
            pb.TranslateRequest, text, model, truncate_input, False, priority, options))

    async def summarize(self, text: str, *, model: str = "", truncate_input: bool = False,
                        return_alignment: bool = False, priority: Optional[str] = None,
                        **options) -> pb.SummarizeResponse:
        return await self._unary(self._stub.Summarize, generation_request(
            pb.SummarizeRequest, text, model, truncate_input, return_alignment, priority,
            options))

    def summarize_stream(self, text: str, *, model: str = "", truncate_input: bool = False,
                         priority: Optional[str] = None,
                         **options) -> AsyncIterator[pb.SummarizeStreamResponse]:
        return self._stream(self._stub.SummarizeStream, generation_request(
            pb.SummarizeRequest, text, model, truncate_input, False, priority, options))

    async def classify(self, texts: Sequence[str] | str, *, model: str = "",
                       long_input: Optional[str] = None, return_alignment: bool = False,
                       priority: Optional[str] = None) -> pb.ClassifySentimentResponse:
        return await self._unary(self._stub.ClassifySentiment, classify_request(
            texts, model, long_input, return_alignment, priority))

    async def models(self, task: Optional[str] = None) -> List[pb.Model]:
        return list((await self._unary(self._stub.ListModels, list_request(task))).models)

    async def model(self, name: str) -> pb.Model:
        return await self._unary(self._stub.GetModel, pb.GetModelRequest(name=name))

    async def server_info(self) -> pb.ServerInfo:
        return await self._unary(self._stub.GetServerInfo, pb.GetServerInfoRequest())

    async def tokenize(self, text: str, *, model: str = "",
                       task: Optional[str] = None) -> pb.TokenizeResponse:
        return await self._unary(self._stub.Tokenize, tokenize_request(text, model, task))

    async def health(self, service: str = "") -> str:
        return health_status(await self._unary(
            self._health, health_request(service)))
