#!/usr/bin/python3
"""Checks of deploy/ that run without a container engine:
  - promtool accepts the Prometheus config and the alert rules, and the rules'
    unit tests (tests/deploy/alerts_test.yml) pass;
  - the Grafana dashboard has variables and a legend on every query, and each
    panel's query and each recording rule returns data from a real Prometheus
    scraping heed-server under load;
  - docker-compose accepts docker-compose.yml (default and scale-out profiles);
  - every metric named in the alert rules and the Grafana dashboard is one a
    running heed-server really exports (scraped here);
  - the Kubernetes manifests parse and name the server's real ports and probes
    (startup and readiness on the overall status, liveness on "liveness", each
    SERVING on a running server), one HPA, a PodDisruptionBudget, and a grace
    period at least the image's --shutdown_grace;
  - compose's Prometheus scrapes every heed container;
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
import urllib.parse
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

r = subprocess.run(["promtool", "test", "rules", os.path.join(source, "tests", "deploy", "alerts_test.yml")],
                   capture_output=True, text=True)
check("promtool test rules: burn-rate and queue alerts fire on outages, stay quiet otherwise",
      r.returncode == 0, r.stdout + r.stderr)

rules = yaml.safe_load(open(os.path.join(deploy, "prometheus", "alerts.yml")))["groups"]
exprs = [rule["expr"] for group in rules for rule in group["rules"]]
recorded = [rule["record"] for group in rules for rule in group["rules"] if "record" in rule]
alerts = [rule["alert"] for group in rules for rule in group["rules"] if "alert" in rule]
check("alerts: multi-window burn-rate alerts for an availability and a latency SLO",
      {"HeedAvailabilityBudgetBurnFast", "HeedAvailabilityBudgetBurnSlow", "HeedLatencyBudgetBurnFast",
       "HeedLatencyBudgetBurnSlow"} <= set(alerts), alerts)

# The dashboard: variables, a legend on every query, the panels an SRE needs.
dashboard = json.load(open(os.path.join(deploy, "grafana", "dashboards", "heed.json")))
variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
check("dashboard: instance, model and task variables", {"instance", "model", "task"} <= variables, variables)
targets = [(p["title"], t) for p in dashboard["panels"] for t in p["targets"]]
unlabelled = [title for title, t in targets if not t.get("legendFormat", "").strip()]
check("dashboard: every query has a legend", not unlabelled, unlabelled)
titles = " | ".join(p["title"] for p in dashboard["panels"])
for needed in ("error ratio", "Latency p50 / p99 by model", "Mean batch size", "Models loaded"):
    check(f"dashboard: a panel '{needed}'", needed.lower() in titles.lower(), titles)
exprs += [t["expr"] for _, t in targets]


def panel_query(expr):
    """A panel's query as Grafana sends it with every variable on All."""
    return (expr.replace("$__rate_interval", "30s").replace('"$instance"', '".*"')
            .replace('"$model"', '".*"').replace('"$task"', '".*"'))


# A live server under load, scraped by a real Prometheus with heed's rules:
# every metric that rules and dashboard name is exported, and every panel's
# query and every recording rule returns data.
server, grpc_port, metrics_port = start_server()
prom_dir = tempfile.mkdtemp(prefix="heed_prometheus_")
prom_port = free_port()
prometheus = None
loads = []
try:
    shutil.copy(os.path.join(deploy, "prometheus", "alerts.yml"), prom_dir)
    with open(os.path.join(prom_dir, "prometheus.yml"), "w") as f:
        f.write(f"""global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [alerts.yml]
scrape_configs:
  - job_name: heed
    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]
""")
    prometheus = subprocess.Popen(["prometheus", "--config.file=" + os.path.join(prom_dir, "prometheus.yml"),
                                   "--storage.tsdb.path=" + os.path.join(prom_dir, "data"),
                                   f"--web.listen-address=127.0.0.1:{prom_port}"],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(prom_dir, "log"), "w"))
    for stream in ([], ["--stream"]):
        loads.append(subprocess.Popen(
            [os.path.join(build, "client", "heed-loadgen"), f"--address=127.0.0.1:{grpc_port}",
             "--concurrency=2", "--duration=14s", "--warmup=0s", "--progress=false", "--json",
             "--mix=translate=1,summarize=1,sentiment=1", "--max_tokens=4", *stream],
            stdout=subprocess.DEVNULL))
    time.sleep(10)

    def query(promql):
        url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        try:
            return json.loads(urllib.request.urlopen(url, timeout=10).read())["data"]["result"]
        except Exception as e:  # an unparsable query, or Prometheus not up
            return f"error: {e}"

    empty = [(title, t["expr"], query(panel_query(t["expr"]))) for title, t in targets]
    empty = [e for e in empty if not isinstance(e[2], list) or not e[2]]
    check(f"dashboard: each of {len(targets)} panel queries returns data from Prometheus scraping heed under load",
          not empty, empty)
    empty = [(name, query(name)) for name in recorded]
    empty = [e for e in empty if not isinstance(e[1], list) or not e[1]]
    check(f"alerts: each of {len(recorded)} recording rules has data", not empty, empty)
    for load in loads:
        load.wait(timeout=60)
    scraped = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
finally:
    for load in loads:
        if load.poll() is None:
            load.kill()
    if prometheus is not None:
        prometheus.terminate()
        prometheus.wait(timeout=30)
    shutil.rmtree(prom_dir, ignore_errors=True)
    server.terminate()
    server.wait(timeout=30)
exported = {line.split("{")[0].split(" ")[0] for line in scraped.splitlines()
            if line and not line.startswith("#")}
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
check("k8s manifests parse", {"Deployment", "Service", "HorizontalPodAutoscaler", "ServiceMonitor",
                              "PodDisruptionBudget"} <= kinds, kinds)
deployment = next(d for d in docs if d["kind"] == "Deployment")
container = deployment["spec"]["template"]["spec"]["containers"][0]
ports = {p["containerPort"] for p in container["ports"]}
check("k8s ports are the server's", ports == {50051, 9464, 8080}, ports)
check("k8s imagePullPolicy IfNotPresent", container.get("imagePullPolicy") == "IfNotPresent")
probes = {kind: container.get(kind + "Probe") for kind in ("startup", "readiness", "liveness")}
check("k8s startup, readiness and liveness probes use gRPC health on 50051",
      all(p and p.get("grpc", {}).get("port") == 50051 for p in probes.values()), probes)
check("k8s liveness asks the 'liveness' health service (SERVING while models load)",
      probes["liveness"]["grpc"].get("service") == "liveness", probes["liveness"])
check("k8s readiness and startup ask the overall status (SERVING once every model is ready)",
      not probes["readiness"]["grpc"].get("service") and not probes["startup"]["grpc"].get("service"), probes)
startup_budget = probes["startup"].get("periodSeconds", 10) * probes["startup"].get("failureThreshold", 3)
check("k8s startupProbe allows at least 5 minutes for large models", startup_budget >= 300, startup_budget)
hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
targets_of_hpas = [json.dumps(h["spec"]["scaleTargetRef"], sort_keys=True) for h in hpas]
check("k8s: one HorizontalPodAutoscaler per Deployment", len(targets_of_hpas) == len(set(targets_of_hpas)) == 1,
      targets_of_hpas)
hpa_metrics = {m.get("resource", {}).get("name") or m.get("pods", {}).get("metric", {}).get("name")
               for m in hpas[0]["spec"]["metrics"]}
check("k8s HPA scales on CPU and queue depth", {"cpu", "heed_queue_depth"} <= hpa_metrics, hpa_metrics)
pdb = next((d for d in docs if d["kind"] == "PodDisruptionBudget"), None)
check("k8s PodDisruptionBudget selects the heed pods",
      pdb is not None and pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"],
      pdb)
dockerfile = open(os.path.join(deploy, "Dockerfile")).read()
grace = int(re.search(r"--shutdown_grace=(\d+)s", dockerfile).group(1))
check("k8s grace period covers the server's", deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace)
service = next(d for d in docs if d["kind"] == "Service")
check("k8s service is headless", service["spec"].get("clusterIP") == "None")

# The health services the probes ask, against a running server.
server, grpc_port, _ = start_server()
try:
    for kind, probe in probes.items():
        name = probe["grpc"].get("service", "")
        r = subprocess.run([os.path.join(build, "client", "heed"), f"--address=127.0.0.1:{grpc_port}", "health",
                            *([name] if name else [])], capture_output=True, text=True, timeout=30)
        check(f"k8s {kind} probe's health service '{name}' is SERVING on a running server",
              r.stdout.strip() == "SERVING", r.stdout + r.stderr)
finally:
    server.terminate()
    server.wait(timeout=30)

# Compose: Prometheus scrapes every heed container, replicas included.
compose = yaml.safe_load(open(os.path.join(source, "docker-compose.yml")))
heed_services = {name for name, svc in compose["services"].items() if svc.get("image", "").startswith("heed:")}
scrape = yaml.safe_load(open(os.path.join(deploy, "prometheus", "prometheus.yml")))["scrape_configs"]
scraped_names = set()
for job in scrape:
    for sd in job.get("dns_sd_configs", []):
        scraped_names |= set(sd["names"])
    for static in job.get("static_configs", []):
        scraped_names |= {t.split(":")[0] for t in static["targets"]}
check("compose: Prometheus scrapes every heed service", heed_services <= scraped_names,
      sorted(heed_services - scraped_names))

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
