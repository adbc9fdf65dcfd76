#!/usr/bin/python3
"""Checks of deploy/ that run without a container engine:
  - promtool accepts the Prometheus config and the alert rules;
  - docker-compose accepts docker-compose.yml (default and scale-out profiles);
  - every metric named in the alert rules and the Grafana dashboard is one a
    running heed-server really exports (scraped here);
  - the Kubernetes manifests parse and name the server's real ports and probes,
    with a grace period at least the image's --shutdown_grace;
  - three heed-server replicas behind nginx grpc_pass take a heed-loadgen run
    while one replica is stopped: every request is answered, OK or with a clear
    shutdown status.
Usage (ctest runs it): deploy_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

build, source = sys.argv[1], sys.argv[2]
deploy = os.path.join(source, "deploy")
models = os.path.join(source, "tests", "golden", "models")
failures, passed = [], 0


def check(name, condition, detail=""):
    global passed
    if condition:
        passed += 1
        print("ok:", name)
    else:
        failures.append(name)
        print("FAIL:", name, str(detail)[:2000])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(extra=()):
    proc = subprocess.Popen([os.path.join(build, "server", "heed-server"), "--models_dir=" + models,
                             "--grpc_address=127.0.0.1:0", "--metrics_address=127.0.0.1:0", *extra],
                            stdout=subprocess.PIPE, text=True)
    grpc_port = metrics_port = None
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if m := re.search(r" grpc listening on port (\d+)$", line):
            grpc_port = int(m.group(1))
        if m := re.search(r" metrics listening on port (\d+)$", line):
            metrics_port = int(m.group(1))
        if line.rstrip().endswith(" info serving"):
            break
    return proc, grpc_port, metrics_port


r = subprocess.run(["promtool", "check", "config", os.path.join(deploy, "prometheus", "prometheus.yml")],
                   capture_output=True, text=True)
check("promtool check config", r.returncode == 0, r.stdout + r.stderr)
r = subprocess.run(["promtool", "check", "rules", os.path.join(deploy, "prometheus", "alerts.yml")],
                   capture_output=True, text=True)
check("promtool check rules", r.returncode == 0, r.stdout + r.stderr)
for profile in ([], ["--profile", "scale-out"]):
    r = subprocess.run(["docker-compose", "-f", os.path.join(source, "docker-compose.yml"), *profile,
                        "config", "-q"], capture_output=True, text=True)
    if r.returncode != 0 and profile and "profile" in r.stderr:
        # docker-compose 1.29 knows profiles through COMPOSE_PROFILES only.
        r = subprocess.run(["docker-compose", "-f", os.path.join(source, "docker-compose.yml"),
                            "config", "-q"], capture_output=True, text=True,
                           env=dict(os.environ, COMPOSE_PROFILES="scale-out"))
    check("docker-compose config " + " ".join(profile), r.returncode == 0, r.stdout + r.stderr)

# Metric names used by rules and dashboard against a live scrape.
server, grpc_port, metrics_port = start_server()
try:
    subprocess.run([os.path.join(build, "client", "heed-loadgen"), f"--address=127.0.0.1:{grpc_port}",
                    "--requests=30", "--duration=0s", "--warmup=0s", "--stream", "--progress=false",
                    "--mix=translate=1,summarize=1,sentiment=1", "--max_tokens=3"],
                   capture_output=True, timeout=120)
    scraped = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
finally:
    server.terminate()
    server.wait(timeout=30)
exported = {line.split("{")[0].split(" ")[0] for line in scraped.splitlines()
            if line and not line.startswith("#")}
exprs = [rule["expr"] for group in yaml.safe_load(open(os.path.join(deploy, "prometheus", "alerts.yml")))["groups"]
         for rule in group["rules"]]
dashboard = json.load(open(os.path.join(deploy, "grafana", "dashboards", "heed.json")))
exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
used = set()
for e in exprs:
    used |= set(re.findall(r"\b(?:heed|process)_[a-z_]+\b", e))
missing = sorted(n for n in used if n not in exported)
check(f"{len(used)} metric names of rules and dashboard are exported", not missing, missing)

# Kubernetes manifests.
docs = []
for name in sorted(os.listdir(os.path.join(deploy, "k8s"))):
    docs += [d for d in yaml.safe_load_all(open(os.path.join(deploy, "k8s", name))) if d]
kinds = {d["kind"] for d in docs}
check("k8s manifests parse", {"Deployment", "Service", "HorizontalPodAutoscaler", "ServiceMonitor"} <= kinds,
      kinds)
deployment = next(d for d in docs if d["kind"] == "Deployment")
container = deployment["spec"]["template"]["spec"]["containers"][0]
ports = {p["containerPort"] for p in container["ports"]}
check("k8s ports are the server's", ports == {50051, 9464}, ports)
check("k8s probes use gRPC health on 50051",
      container["readinessProbe"]["grpc"]["port"] == 50051 and container["livenessProbe"]["grpc"]["port"] == 50051)
dockerfile = open(os.path.join(deploy, "Dockerfile")).read()
grace = int(re.search(r"--shutdown_grace=(\d+)s", dockerfile).group(1))
check("k8s grace period covers the server's", deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace)
service = next(d for d in docs if d["kind"] == "Service")
check("k8s service is headless", service["spec"].get("clusterIP") == "None")

# Scale-out: three replicas behind nginx, one stopped mid-run.
work = tempfile.mkdtemp(prefix="heed_scaleout_")
replicas = [start_server(["--shutdown_grace=1s"]) for _ in range(3)]
balancer_port = free_port()
upstreams = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for _, p, _ in replicas)
with open(os.path.join(work, "nginx.conf"), "w") as f:
    f.write(f"""daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{}}
http {{
  access_log off;
  client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work};
  uwsgi_temp_path {work}; scgi_temp_path {work};
  upstream heed {{
{upstreams}  }}
  server {{
    listen 127.0.0.1:{balancer_port} http2;
    location / {{ grpc_pass grpc://heed; grpc_next_upstream error timeout http_502 http_503; }}
  }}
}}
""")
nginx = subprocess.Popen(["nginx", "-c", os.path.join(work, "nginx.conf"), "-p", work],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "nginx.stderr"), "w"))
try:
    time.sleep(1)
    loadgen = subprocess.Popen([os.path.join(build, "client", "heed-loadgen"),
                                f"--address=127.0.0.1:{balancer_port}", "--concurrency=16",
                                "--duration=4s", "--warmup=0s", "--json", "--progress=false",
                                "--mix=translate=1,sentiment=1", "--max_tokens=8"],
                               stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    replicas[1][0].send_signal(signal.SIGTERM)
    out, _ = loadgen.communicate(timeout=120)
    result = json.loads(out)
    print("scale-out run:", json.dumps(result))
    codes = result["codes"]
    # A call the stopping replica had already started ends UNAVAILABLE from
    # heed or, if nginx saw the stream reset, CANCELLED: either way a clear,
    # retryable status; nothing unanswered, nothing UNKNOWN or INTERNAL.
    check("scale-out: every request answered, OK or a clear shutdown status",
          sum(codes.values()) == result["requests"]
          and set(codes) <= {"OK", "UNAVAILABLE", "CANCELLED"}
          and codes.get("OK", 0) > 0.99 * result["requests"],
          [result, open(os.path.join(work, "nginx.stderr")).read()])
    check("scale-out: the stopped replica exited cleanly", replicas[1][0].wait(timeout=30) == 0)
finally:
    nginx.terminate()
    nginx.wait(timeout=10)
    for proc, _, _ in replicas:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
