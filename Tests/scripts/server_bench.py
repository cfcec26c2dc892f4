#!/usr/bin/env python3
"""Timings and a memory soak of annota-server on loopback (standard library only).

Usage: python3 Tests/scripts/server_bench.py --server .build/release/annota-server
       [--tasks 100] [--repeat 5] [--boxes 50] [--soak 10000] [--soak-seconds 600]

Generates synthetic scenes (the e2e test's generator), starts annota-server on a free port,
and measures:
  - predict: one POST /predict with --tasks tasks (auto-fit + features + classifier scoring),
    median and best of --repeat runs after one warm-up;
  - interactive: --boxes single-box requests (params.context.result), median and p95 per box;
  - soak: --soak requests over one keep-alive connection cycling health, setup, predict (one
    task), interactive (one box) and versions, bounded by --soak-seconds; RSS of the server
    (VmRSS from /proc) before (after warm-up) and after, and the number of non-200 answers.
By default the classifier is trained first (annotation webhooks for 20 scenes), so predict
includes features and classification; --no-train times the untrained path. With --download the
server gets no --images-root: every image is downloaded, with a token, from a stand-in Label
Studio on loopback that /setup names (so the figures include the downloads, and the soak checks
that they leak nothing). Prints one JSON object with the figures. Stops the server on exit.
"""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import shutil
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labelstudio_e2e import CONFIG, make_scene  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--boxes", type=int, default=50)
    ap.add_argument("--soak", type=int, default=10000)
    ap.add_argument("--soak-seconds", type=float, default=600)
    ap.add_argument("--no-train", dest="train", action="store_false",
                    help="time the untrained path (auto-fit only, no features or classifier)")
    ap.add_argument("--download", action="store_true",
                    help="no --images-root: images come from a stand-in Label Studio named in /setup")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="annota-server-bench-")
    rng = random.Random(7)
    os.makedirs(os.path.join(work, "images"))
    truth = {}
    for i in range(args.tasks):
        name = "images/scene-%03d.png" % i
        truth[name] = make_scene(rng, os.path.join(work, name))
    setup_extra = {}
    files_server = None
    if args.download:
        root = work

        class Files(BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                path = os.path.normpath(os.path.join(root, query.get("d", [""])[0]))
                if self.headers.get("Authorization") != "Token bench":
                    self.send_response(401)
                    self.end_headers()
                    return
                if not path.startswith(root + os.sep) or not os.path.isfile(path):
                    self.send_response(404)
                    self.end_headers()
                    return
                with open(path, "rb") as f:
                    data = f.read()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_):
                pass

        files_server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
        threading.Thread(target=files_server.serve_forever, daemon=True).start()
        setup_extra = {"hostname": "http://127.0.0.1:%d" % files_server.server_address[1], "access_token": "bench"}
    port = free_port()
    command = [args.server, "--port", str(port), "--log-level", "warning"]
    if not args.download:
        command += ["--images-root", work]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 30
        conn = None
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.request("GET", "/health")
                conn.getresponse().read()
                break
            except OSError:
                conn = None
                time.sleep(0.2)
        if conn is None:
            raise SystemExit("annota-server did not start")
        if args.download:
            conn.request("POST", "/setup", body=json.dumps(dict(setup_extra, project="1.0")).encode())
            conn.getresponse().read()

        def call(method, path, body=None):
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            payload = r.read()
            return r.status, payload

        tasks = []
        for i, (name, objects) in enumerate(sorted(truth.items())):
            rough = [{"x": x - 5, "y": y + 4, "width": w + 9, "height": h - 7} for _, x, y, w, h in objects]
            tasks.append({"id": i + 1, "data": {"image": "/data/local-files/?d=" + name, "annota_boxes": rough}})
        batch = {"tasks": tasks, "project": "1.0", "label_config": CONFIG}
        boxes = sum(len(o) for o in truth.values())

        def timed(body):
            t0 = time.perf_counter()
            status, payload = call("POST", "/predict", body)
            dt = time.perf_counter() - t0
            assert status == 200, payload[:300]
            results = json.loads(payload)["results"]
            assert all("error" not in r for r in results), [r["error"] for r in results if "error" in r][:3]
            assert all(r["model_version"] == version for r in results), results[0]["model_version"]
            return dt, results

        if args.train:
            # Train the classifier first, so predict runs auto-fit + features + classifier: one
            # annotation webhook per scene of the first 20, with the true boxes and labels.
            for i, (name, objects) in enumerate(sorted(truth.items())[:20]):
                result = [{"type": "rectanglelabels", "from_name": "label", "to_name": "image",
                           "value": {"x": x / 3.2, "y": y / 2.4, "width": w / 3.2, "height": h / 2.4,
                                     "rectanglelabels": [label]}} for label, x, y, w, h in objects]
                status, payload = call("POST", "/webhook", {
                    "action": "ANNOTATION_CREATED", "project": {"id": 1, "label_config": CONFIG},
                    "task": {"id": i + 1, "data": {"image": "/data/local-files/?d=" + name}},
                    "annotation": {"id": 1000 + i, "result": result}})
                assert status == 200, payload
            version, stable = None, time.time()
            while time.time() - stable < 2:
                v = json.loads(call("POST", "/setup", dict(setup_extra, project="1.0"))[1])["model_version"]
                if v != version:
                    version, stable = v, time.time()
                time.sleep(0.2)
            assert version != "annota-v0", "training did not happen"
        else:
            version = "annota-v0"

        timed(batch)  # warm-up
        runs = [timed(batch)[0] for _ in range(args.repeat)]

        def interactive_body(i):
            name, objects = sorted(truth.items())[i % len(truth)]
            label, x, y, w, h = objects[0]
            ctx = {"result": [{"type": "rectanglelabels", "from_name": "label", "to_name": "image",
                               "value": {"x": (x - 6) / 3.2, "y": (y + 5) / 2.4, "width": (w + 12) / 3.2,
                                         "height": (h - 9) / 2.4, "rectanglelabels": [label]}}]}
            return {"tasks": [{"id": i, "data": {"image": "/data/local-files/?d=" + name}}], "project": "1.0",
                    "label_config": CONFIG, "params": {"context": ctx}}

        per_box = []
        for i in range(args.boxes):
            per_box.append(timed(interactive_body(i))[0])
        per_box.sort()

        # Soak.
        single = [{"tasks": [t], "project": "1.0", "label_config": CONFIG} for t in tasks]
        for i in range(50):
            call("POST", "/predict", single[i % len(single)])
            call("POST", "/predict", interactive_body(i))
        before = rss_kib(server.pid)
        t0 = time.time()
        bad = 0
        done = 0
        rss_trace = []
        while done < args.soak and time.time() - t0 < args.soak_seconds:
            if done % 2000 == 0:
                rss_trace.append(rss_kib(server.pid))
            k = done % 5
            if k == 0:
                status, _ = call("GET", "/health")
            elif k == 1:
                status, _ = call("POST", "/setup", dict(setup_extra, project="1.0", label_config=CONFIG))
            elif k == 2:
                status, _ = call("POST", "/predict", single[done % len(single)])
            elif k == 3:
                status, _ = call("POST", "/predict", interactive_body(done))
            else:
                status, _ = call("GET", "/versions")
            bad += status != 200
            done += 1
        soak_seconds = time.time() - t0
        after = rss_kib(server.pid)
        print(json.dumps({
            "tasks": args.tasks, "boxes_in_batch": boxes,
            "predict_batch_s": {"median": round(statistics.median(runs), 4), "best": round(min(runs), 4)},
            "interactive_per_box_ms": {"median": round(statistics.median(per_box) * 1000, 2),
                                       "p95": round(per_box[int(0.95 * (len(per_box) - 1))] * 1000, 2)},
            "soak": {"requests": done, "seconds": round(soak_seconds, 1), "non_200": bad,
                     "rss_before_kib": before, "rss_after_kib": after, "rss_every_2000_kib": rss_trace},
            "model_version": version,
            "images": "downloaded from a stand-in Label Studio" if args.download else "--images-root",
            "server_threads": os.cpu_count(),
        }, indent=1))
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if files_server is not None:
            files_server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
