#!/usr/bin/python3
"""The module rules of docs/architecture.md, checked on every #include:
  - core/ knows nothing of serving: no server/, client/, proto, gRPC,
    protobuf, Prometheus or logging library;
  - server/scheduler/ uses absl and the standard library only (and
    core/pipelines/status_details.h, itself absl only, to say why it refuses);
  - server/engine/ (the model runtime) has no gRPC and no protobuf, and sits
    below the front ends and the configuration;
  - server/metrics/ knows neither gRPC nor models;
  - server/service/ (gRPC) reaches core only through core/pipelines/;
  - server/http/ (HTTP/JSON) is a client of the gRPC service: it reaches core
    only through core/pipelines/ and never the engine;
  - server/config/ does not depend on the gRPC service;
  - client/ uses the API (proto) only, never core/ or server/.
Usage (ctest runs it): include_rules_test.py SOURCE_DIR
"""
import os
import re
import sys

source = sys.argv[1]
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)

# (directory, forbidden include prefixes, or None; allowed prefixes for quoted
# includes, or None for "anything not forbidden")
RULES = [
    ("core", ("server/", "client/", "heed/v1/", "grpc", "google/protobuf", "prometheus",
              "spdlog", "tests/"), None),
    ("server/scheduler", None, ("absl/", "server/scheduler/",
                                "core/pipelines/status_details.h")),
    ("server/engine", ("grpc", "grpcpp/", "heed/v1/", "google/protobuf", "server/service/",
                       "server/config/", "server/logging/"), None),
    ("server/metrics", ("grpc", "heed/v1/", "google/protobuf", "server/engine/",
                        "server/service/", "core/"), None),
    ("server/service", ("core/cpu/", "core/io/", "core/kernels/", "core/models/", "core/ops/",
                        "core/tensor/", "core/tokenizers/", "core/generation/",
                        "server/config/"), None),
    ("server/http", ("core/cpu/", "core/io/", "core/kernels/", "core/models/", "core/ops/",
                     "core/tensor/", "core/tokenizers/", "core/generation/",
                     "server/config/", "server/engine/"), None),
    ("server/config", ("server/service/", "server/http/", "grpc"), None),
    ("client", ("core/", "server/"), None),
]

violations = []
checked = 0
for directory, forbidden, allowed in RULES:
    root = os.path.join(source, directory)
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith((".h", ".cc", ".h.in")):
                continue
            path = os.path.join(dirpath, name)
            text = open(path, encoding="utf-8").read()
            for match in INCLUDE.finditer(text):
                header = match.group(1)
                quoted = match.group(0).rstrip().endswith('"')
                checked += 1
                if forbidden and header.startswith(forbidden):
                    violations.append(f"{os.path.relpath(path, source)}: {header}")
                elif allowed and quoted and not header.startswith(allowed):
                    violations.append(f"{os.path.relpath(path, source)}: {header} "
                                      f"(only {', '.join(allowed)} allowed)")

for v in violations:
    print("FAIL:", v)
print(f"{checked} includes checked, {len(violations)} break the module rules")
sys.exit(1 if violations else 0)
