"""Request building shared by Client and AsyncClient."""
from __future__ import annotations

from typing import Optional, Sequence

from heed.v1 import inference_pb2 as pb

_GENERATION_OPTIONS = ("max_output_tokens", "min_output_tokens", "beam_size",
                       "length_penalty", "no_repeat_ngram_size",
                       "no_adjacent_repeat_ngram_size", "num_return_sequences",
                       "repetition_penalty", "encoder_repetition_penalty")
_SAMPLING_OPTIONS = ("temperature", "top_k", "top_p", "seed")
_PRIORITIES = {None: pb.PRIORITY_UNSPECIFIED, "low": pb.PRIORITY_LOW,
               "normal": pb.PRIORITY_NORMAL, "high": pb.PRIORITY_HIGH}
_LONG_INPUT = {None: pb.LONG_INPUT_UNSPECIFIED, "error": pb.LONG_INPUT_ERROR,
               "truncate": pb.LONG_INPUT_TRUNCATE, "chunks": pb.LONG_INPUT_CHUNKS}
_TASKS = {None: pb.TASK_UNSPECIFIED, "translation": pb.TASK_TRANSLATION,
          "summarization": pb.TASK_SUMMARIZATION, "sentiment": pb.TASK_SENTIMENT}


def generation_request(cls, text: str, model: str, truncate_input: bool,
                       return_alignment: bool, priority: Optional[str], options: dict):
    """A TranslateRequest or SummarizeRequest; `options` are GenerationOptions'
    fields, with temperature/top_k/top_p/seed meaning sampling."""
    unknown = set(options) - set(_GENERATION_OPTIONS) - set(_SAMPLING_OPTIONS)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    request = cls(text=text, model=model, truncate_input=truncate_input,
                  return_alignment=return_alignment, priority=_PRIORITIES[priority])
    for name in _GENERATION_OPTIONS:
        if options.get(name) is not None:
            setattr(request.options, name, options[name])
    for name in _SAMPLING_OPTIONS:
        if options.get(name) is not None:
            setattr(request.options.sampling, name, options[name])
    return request


def classify_request(texts: Sequence[str] | str, model: str, long_input: Optional[str],
                     return_alignment: bool, priority: Optional[str]):
    if isinstance(texts, str):
        texts = [texts]
    return pb.ClassifySentimentRequest(texts=list(texts), model=model,
                                       long_input=_LONG_INPUT[long_input],
                                       return_alignment=return_alignment,
                                       priority=_PRIORITIES[priority])


def list_request(task: Optional[str]):
    return pb.ListModelsRequest(task=_TASKS[task])


def tokenize_request(text: str, model: str, task: Optional[str]):
    return pb.TokenizeRequest(text=text, model=model, task=_TASKS[task])


def health_request(service: str) -> bytes:
    """grpc.health.v1.HealthCheckRequest{service}, encoded by hand: a health
    stub of our own named grpc.* would shadow grpcio."""
    data = service.encode()
    length, prefix = len(data), bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        prefix.append(byte | (0x80 if length else 0))
        if not length:
            break
    return (b"\x0a" + bytes(prefix) + data) if data else b""


_SERVING_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def health_status(data: bytes) -> str:
    # HealthCheckResponse{status = 1 (enum)}: absent means UNKNOWN.
    status = data[1] if len(data) >= 2 and data[0] == 0x08 else 0
    return _SERVING_STATUS.get(status, str(status))
