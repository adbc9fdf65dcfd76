#!/usr/bin/python3
"""heed-server's HTTP/JSON API against real servers with the fixture models,
driven with curl and with Python's http.client: health and readiness, the
proto's JSON mapping at /v1/{Method}, Server-Sent Events, the Hugging Face
task formats (the exact JSON huggingface_hub's InferenceClient sends and
reads), errors with their HTTP status and details, authentication, bodies
over the limit, deadlines, 429 with Retry-After, and clients that stall.

Usage (ctest runs it): http_test.py BUILD_DIR SOURCE_DIR
"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
import harness  # noqa: E402

build, source = sys.argv[1], sys.argv[2]
server_bin = os.path.join(build, "server", "heed-server")
models = os.path.join(source, "tests", "golden", "models")
check = harness.Checks()


class Server:
    def __init__(self, *flags):
        self.process, ports = harness.start_server(
            server_bin, "--http_address=127.0.0.1:0", "--models_dir=" + models, *flags)
        self.port, self.metrics_port = ports["http"], ports["metrics"]

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body)
        conn.request(method, path, body=data, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, parsed, response, raw

    def stop(self):
        harness.stop(self.process)


def curl(*args):
    return subprocess.run(["curl", "-s", "-S", *args], capture_output=True, text=True, timeout=60)


server = Server()
try:
    base = f"http://127.0.0.1:{server.port}"

    # Health and readiness, with curl as a probe would call them.
    r = curl("-o", "/dev/null", "-w", "%{http_code}", base + "/healthz")
    check("curl /healthz is 200", r.stdout == "200", r.stdout + r.stderr)
    status, body, _, _ = server.request("GET", "/readyz")
    check("/readyz is 200 SERVING", status == 200 and body == {"status": "SERVING"}, body)
    status, body, _, _ = server.request("GET", "/readyz?model=bert-tiny")
    check("/readyz?model= a ready model", status == 200 and body["ready"] is True, body)
    status, body, _, _ = server.request("GET", "/readyz?model=nope")
    check("/readyz?model= an unknown model is 404", status == 404 and
          body["reason"] == "MODEL_NOT_FOUND", body)
    status, body, _, _ = server.request("GET", "/nowhere")
    check("unknown path is 404 JSON", status == 404 and body["code"] == "NOT_FOUND", body)

    # The proto's JSON mapping.
    r = curl("-X", "POST", base + "/v1/Translate", "-d",
             '{"text": "A dog runs.", "options": {"maxOutputTokens": 3}}')
    reply = json.loads(r.stdout) if r.returncode == 0 else {}
    check("curl /v1/Translate", reply.get("usage", {}).get("outputTokens") == 3 and
          reply["model"]["name"] == "marian-tiny", r.stdout + r.stderr)
    status, body, _, _ = server.request("POST", "/v1/Translate",
                                        {"text": "A dog runs.",
                                         "options": {"max_output_tokens": 2}})
    check("proto field names are accepted too", status == 200 and
          body["usage"]["outputTokens"] == 2, body)
    status, body, _, _ = server.request("POST", "/v1/ClassifySentiment",
                                        {"texts": ["nice", "bad"], "model": "bert-tiny"})
    check("/v1/ClassifySentiment", status == 200 and len(body["results"]) == 2, body)
    status, body, _, _ = server.request("POST", "/v1/ListModels", {})
    check("/v1/ListModels", status == 200 and len(body["models"]) == 4, body)
    status, body, _, _ = server.request("POST", "/v1/GetServerInfo", b"")
    check("/v1/GetServerInfo with an empty body", status == 200 and
          body["limits"]["maxTextsPerRequest"] == 256, body)

    # Errors: status, code, reason, field.
    status, body, _, _ = server.request("POST", "/v1/Translate", b"{not json")
    check("bad JSON is 400 INVALID_JSON", status == 400 and body["reason"] == "INVALID_JSON",
          body)
    status, body, _, _ = server.request("POST", "/v1/Translate", {"text": "x", "colour": 1})
    check("an unknown field is 400 naming it", status == 400 and "colour" in body["error"], body)
    status, body, _, _ = server.request("POST", "/v1/Translate",
                                        {"text": "x", "options": {"beamSize": 17}})
    check("an option out of range is 400 with the field", status == 400 and
          body["reason"] == "OPTION_OUT_OF_RANGE" and
          body["field_violations"][0]["field"] == "options.beam_size", body)
    status, body, _, _ = server.request("POST", "/v1/Translate",
                                        {"text": "hello", "model": "bert-tiny"})
    check("a model of another task is 400 WRONG_TASK", status == 400 and
          body["reason"] == "WRONG_TASK", body)
    status, body, _, _ = server.request("POST", "/v1/Translate", {"text": "word " * 300})
    check("an input over the model's limit is 400 INPUT_TOO_LONG with the limit",
          status == 400 and body["reason"] == "INPUT_TOO_LONG" and "limit" in body["metadata"],
          body)
    status, body, _, _ = server.request(
        "POST", "/v1/Summarize", {"text": "a b c " * 20, "options": {"maxOutputTokens": 60}},
        headers={"X-Heed-Deadline-Ms": "1"})
    check("a passed deadline is 504", status == 504 and body["code"] == "DEADLINE_EXCEEDED",
          body)

    # Server-Sent Events.
    r = curl("-N", "-X", "POST", base + "/v1/TranslateStream", "-d",
             '{"text": "A dog runs in the park.", "options": {"maxOutputTokens": 8}}')
    events = [json.loads(line[len("data: "):]) for line in r.stdout.splitlines()
              if line.startswith("data: ")]
    deltas = "".join(e["delta"]["text"] for e in events if "delta" in e)
    done = [e["done"] for e in events if "done" in e]
    check("SSE: deltas, then one done message with the same text",
          len(events) >= 2 and len(done) == 1 and done[0]["text"] == deltas, r.stdout)
    status, body, _, _ = server.request("POST", "/v1/TranslateStream", {"text": ""})
    check("SSE: an invalid request is a plain 400", status == 400 and
          body["reason"] == "EMPTY_INPUT", body)

    # Hugging Face task formats, as InferenceClient sends them (None values
    # included) and reads them (the first element of the list).
    status, body, _, _ = server.request(
        "POST", "/models/marian-tiny",
        {"inputs": "A dog runs.",
         "parameters": {"src_lang": None, "tgt_lang": None,
                        "clean_up_tokenization_spaces": None, "truncation": None,
                        "generate_parameters": {"max_new_tokens": 4}}})
    check("HF translation", status == 200 and isinstance(body, list) and len(body) == 1 and
          isinstance(body[0]["translation_text"], str), body)
    status, body, _, _ = server.request("POST", "/models/marian-tiny",
                                        {"inputs": ["one", "two", "three"],
                                         "parameters": {"max_new_tokens": 3}})
    check("HF translation of a list keeps the order and count",
          status == 200 and len(body) == 3, body)
    status, body, _, _ = server.request("POST", "/models/bart-tiny",
                                        {"inputs": "a long description of a package",
                                         "parameters": {"max_new_tokens": 5, "num_beams": 2}})
    check("HF summarization", status == 200 and "summary_text" in body[0], body)
    status, body, _, _ = server.request("POST", "/summarization",
                                        {"inputs": "a text", "parameters": {"max_new_tokens": 3}})
    check("HF per task path uses the default model", status == 200 and
          "summary_text" in body[0], body)
    status, body, _, _ = server.request("POST", "/models/bert-tiny",
                                        {"inputs": "What a wonderful film."})
    scores = [item["score"] for item in body[0]] if status == 200 else []
    check("HF text classification: one list per input, by descending score",
          status == 200 and len(body) == 1 and len(body[0]) == 2 and
          scores == sorted(scores, reverse=True) and abs(sum(scores) - 1) < 1e-4, body)
    status, body, _, _ = server.request("POST", "/text-classification",
                                        {"inputs": ["good", "bad"], "parameters": {"top_k": 1}})
    check("HF text classification: top_k and lists", status == 200 and len(body) == 2 and
          all(len(item) == 1 for item in body), body)
    status, body, _, _ = server.request("POST", "/models/marian-tiny",
                                        {"inputs": "x", "parameters": {"temprature": 1}})
    check("HF: an unknown parameter is 400 naming it", status == 400 and
          body["reason"] == "UNKNOWN_FIELD" and "temprature" in body["error"], body)
    status, body, _, _ = server.request("POST", "/models/marian-tiny",
                                        {"inputs": "x", "parameters": {"src_lang": "fr"}})
    check("HF: a language pair is refused", status == 400 and
          body["reason"] == "UNSUPPORTED_PARAMETER", body)
    status, body, _, _ = server.request("POST", "/models/marian-tiny", {"text": "x"})
    check("HF: a body without inputs is 400", status == 400, body)
    status, body, _, _ = server.request("POST", "/models/nope", {"inputs": "x"})
    check("HF: an unknown model is 404", status == 404, body)

    # Clients that send half a request and stall hold one thread each until
    # the I/O timeout; the others are served meanwhile.
    stalled = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(b"POST /v1/Translate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        stalled.append(s)
    start = time.time()
    status, body, _, _ = server.request("GET", "/healthz", timeout=10)
    check("stalled clients do not block others", status == 200 and time.time() - start < 2,
          time.time() - start)
    for s in stalled:
        s.close()

    # Every answered HTTP request is counted by route and status, and its
    # call also in heed_requests_total like a gRPC call.
    conn = http.client.HTTPConnection("127.0.0.1", server.metrics_port, timeout=10)
    conn.request("GET", "/metrics")
    page = conn.getresponse().read().decode()
    check("heed_http_requests_total counts routes and statuses",
          'heed_http_requests_total{code="200",route="/healthz"}' in page and
          'heed_http_requests_total{code="404",route="/models/{name}"}' in page and
          'heed_http_requests_total{code="404",route="other"}' in page and
          'route="/nowhere"' not in page,
          [line for line in page.splitlines() if "http_requests" in line])
    check("HTTP calls count in heed_requests_total", re.search(
        r'heed_requests_total\{code="OK",model="marian-tiny",task="translation"\} [1-9]', page),
        "")
finally:
    server.stop()

# Bodies over the limit, without reading them.
server = Server("--max_message_bytes=65536")
try:
    status, body, _, _ = server.request("POST", "/v1/Translate", b"x" * 100000)
    check("a body over --max_message_bytes is 413", status == 413 and
          body["reason"] == "BODY_TOO_LARGE", body)
finally:
    server.stop()

# Bearer tokens: the Authorization header is the gRPC metadata.
with tempfile.NamedTemporaryFile("w", suffix=".txt") as tokens:
    tokens.write("s3cret\n")
    tokens.flush()
    server = Server("--auth_token_file=" + tokens.name)
    try:
        status, body, _, _ = server.request("POST", "/v1/Translate", {"text": "x"})
        check("no token is 401 TOKEN_MISSING", status == 401 and
              body["reason"] == "TOKEN_MISSING", body)
        status, body, _, _ = server.request("POST", "/v1/Translate", {"text": "x"},
                                            headers={"Authorization": "Bearer wrong"})
        check("a wrong token is 401", status == 401 and body["reason"] == "TOKEN_REJECTED", body)
        status, body, _, _ = server.request("POST", "/v1/Translate",
                                            {"text": "x", "options": {"maxOutputTokens": 2}},
                                            headers={"Authorization": "Bearer s3cret"})
        check("the right token is 200", status == 200, body)
        status, body, _, _ = server.request("GET", "/healthz")
        check("health needs no token", status == 200, body)
    finally:
        server.stop()

# The HTTP front end speaks plaintext only: beside a TLS gRPC port it is
# refused at start-up rather than served unencrypted.
r = subprocess.run([server_bin, "--grpc_address=127.0.0.1:0", "--metrics_address=",
                    "--http_address=127.0.0.1:0", "--models_dir=" + models,
                    "--tls_cert=/nonexistent.pem", "--tls_key=/nonexistent.key"],
                   capture_output=True, text=True, timeout=60)
check("--http_address with --tls_cert is refused (exit 2)", r.returncode == 2 and
      "terminate TLS in a proxy" in r.stdout + r.stderr, r.stdout + r.stderr)

# A full queue: 429 with Retry-After and the delay in the body.
server = Server("--max_queue_size=1", "--max_batch_size=1")
try:
    results = []

    def call():
        results.append(server.request(
            "POST", "/v1/Translate",
            {"text": "a sentence that takes a while", "options": {"maxOutputTokens": 60}}))

    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [(body, response) for status, body, response, _ in results if status == 429]
    check("a full queue answers 429", refused and
          all(status in (200, 429) for status, _, _, _ in results), [r[0] for r in results])
    check("429 carries Retry-After and the reason", refused and all(
        body["reason"] == "QUEUE_FULL" and int(response.getheader("Retry-After")) >= 1 and
        body["retry_delay_seconds"] > 0 for body, response in refused), refused[:1])
finally:
    server.stop()

check.finish()
