#!/usr/bin/env python3
"""End-to-end test of annota-server against a real Label Studio (1.23.2).

Usage: VENV/bin/python Tests/scripts/labelstudio_e2e.py --server .build/debug/annota-server
       [--label-studio VENV/bin/label-studio] [--keep] [--screenshot OUT.png]

Starts Label Studio on 127.0.0.1 with its own temporary data directory, generates synthetic
scenes (blocks of two kinds on a textured background), creates a project with a
RectangleLabels config (smart="true"), a local-files storage, imports tasks with rough boxes,
connects annota-server as the ML backend, and checks, reading everything back from Label
Studio's API:
  1. predictions are stored for every task, with labels from the config, percent boxes and a
     score, model_version annota-v0;
  2. with "Uncertainty sampling", /api/projects/ID/next/ serves a task with the lowest score;
  3. an interactive request (a drawn rough box) comes back fitted to the object;
  4. after annotations are posted, the backend retrains and model_version advances, and new
     predictions carry it;
  5. images uploaded to Label Studio (a second project, nothing under --images-root) are
     downloaded by the backend from the host and with the token of /setup, and predicted.
Every process it starts is stopped on exit, also on failure. Prints "labelstudio-e2e: PASS"
or "labelstudio-e2e: FAIL: reason" and exits 0 or 1.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

try:
    import requests  # Label Studio's venv has it; server_bench.py imports only the scene generator
except ImportError:  # pragma: no cover
    requests = None

LABELS = ["Crate", "Panel"]
COLORS = {"Crate": (200, 60, 40), "Panel": (40, 80, 200)}
CONFIG = """<View>
  <Image name="image" value="$image" zoom="true"/>
  <RectangleLabels name="label" toName="image" smart="true">
    <Label value="Crate" background="#d04020"/>
    <Label value="Panel" background="#2050d0"/>
  </RectangleLabels>
</View>"""
TOKEN = "annota-e2e-token-0123456789abcdef"
USER = "e2e@annota.local"
PASSWORD = "annota-e2e-password"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def log(*args):
    print("[e2e %6.1fs]" % (time.time() - START), *args, flush=True)


START = time.time()


def write_png(path, width, height, pixels):
    """pixels: bytearray of RGB rows."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        raw += pixels[y * width * 3:(y + 1) * width * 3]

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + chunk(b"IEND", b"")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(png)
    os.replace(tmp, path)


def make_scene(rng, path, width=320, height=240):
    """A textured background with 1-3 non-overlapping blocks; returns [(label, x, y, w, h)]."""
    pixels = bytearray(width * height * 3)
    base = [rng.randint(90, 150) for _ in range(3)]
    for y in range(height):
        for x in range(width):
            # Soft texture: a slow ramp and faint 16-px tiles. (No pixel noise: today's fitter
            # reads noise as weak evidence and keeps rough boxes as they are.)
            t = (x + y) // 40 + (3 if ((x // 16 + y // 16) % 2) else -3)
            i = (y * width + x) * 3
            for c in range(3):
                pixels[i + c] = max(0, min(255, base[c] + t))
    objects = []
    for _ in range(rng.randint(1, 3)):
        for _attempt in range(20):
            w, h = rng.randint(40, 90), rng.randint(40, 90)
            x, y = rng.randint(8, width - w - 8), rng.randint(8, height - h - 8)
            if all(x + w + 6 < ox or ox + ow + 6 < x or y + h + 6 < oy or oy + oh + 6 < y
                   for _, ox, oy, ow, oh in objects):
                break
        else:
            continue
        label = rng.choice(LABELS)
        color = COLORS[label]
        for yy in range(y, y + h):
            for xx in range(x, x + w):
                i = (yy * width + xx) * 3
                # Crates are striped, panels plain: the classifier sees colour and texture.
                stripe = 40 if (label == "Crate" and ((xx - x) // 8) % 2) else 0
                for c in range(3):
                    pixels[i + c] = max(0, min(255, color[c] - stripe))
        objects.append((label, x, y, w, h))
    write_png(path, width, height, pixels)
    return objects


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds, what, proc, headers=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise Failure("%s exited early with status %s" % (what, proc.returncode))
        try:
            r = requests.get(url, timeout=2, headers=headers)
            if r.status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise Failure("%s did not answer at %s within %d s" % (what, url, seconds))


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / (aw * ah + bw * bh - inter)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, help="the annota-server executable")
    ap.add_argument("--label-studio", default=os.path.join(os.path.dirname(sys.executable), "label-studio"))
    ap.add_argument("--tasks", type=int, default=12)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--screenshot", help="also write a PNG of the labeling page (needs chromium)")
    args = ap.parse_args()
    if requests is None:
        print("labelstudio-e2e: FAIL: the requests package is missing (run with Label Studio's venv python)")
        return 1

    work = tempfile.mkdtemp(prefix="annota-ls-e2e-")
    procs = []

    def stop_all():
        for p, name in reversed(procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
                log("stopped", name)

    def on_signal(signum, _frame):
        stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        run(args, work, procs)
        print("labelstudio-e2e: PASS (%.0f s)" % (time.time() - START), flush=True)
        return 0
    except Failure as e:
        print("labelstudio-e2e: FAIL: %s" % e, flush=True)
        for name in ("annota-server.log", "label-studio.log"):
            path = os.path.join(work, name)
            if os.path.exists(path):
                print("---- last lines of %s ----" % name)
                with open(path, errors="replace") as f:
                    print("".join(f.readlines()[-40:]))
        return 1
    finally:
        stop_all()
        if args.keep:
            log("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work, procs):
    rng = random.Random(20261123)
    docroot = os.path.join(work, "files")
    os.makedirs(os.path.join(docroot, "images"))
    truth = {}
    for i in range(args.tasks):
        name = "images/scene-%02d.png" % i
        truth[name] = make_scene(rng, os.path.join(docroot, name))
    log("generated", len(truth), "scenes in", docroot)

    # annota-server
    ml_port = free_port()
    state = os.path.join(work, "state")
    server_log = open(os.path.join(work, "annota-server.log"), "w")
    server = subprocess.Popen(
        [args.server, "--port", str(ml_port), "--images-root", docroot, "--state-dir", state],
        stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
    procs.append((server, "annota-server"))
    ml_url = "http://127.0.0.1:%d" % ml_port
    wait_http(ml_url + "/health", 30, "annota-server", server)
    log("annota-server up at", ml_url)

    # Label Studio
    ls_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT", "USERNAME", "PASSWORD", "DEBUG")}
    env.update({
        "LABEL_STUDIO_BASE_DATA_DIR": os.path.join(work, "ls-data"),
        "LABEL_STUDIO_USERNAME": USER,
        "LABEL_STUDIO_PASSWORD": PASSWORD,
        "LABEL_STUDIO_USER_TOKEN": TOKEN,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_ML_BLOCK_LOCAL_IP": "false",
        "LABEL_STUDIO_SSRF_PROTECTION_ENABLED": "false",
        "LOCAL_FILES_SERVING_ENABLED": "true",
        "LOCAL_FILES_DOCUMENT_ROOT": docroot,
        "fflag_feat_utc_210_prediction_validation_15082025": "true",
    })
    ls_log = open(os.path.join(work, "label-studio.log"), "w")
    ls = subprocess.Popen(
        [args.label_studio, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(ls_port),
         "--host", "http://127.0.0.1:%d" % ls_port],
        stdout=ls_log, stderr=subprocess.STDOUT, env=env, cwd=work, start_new_session=True)
    procs.append((ls, "label-studio"))
    base = "http://127.0.0.1:%d" % ls_port
    wait_http(base + "/health", 240, "Label Studio", ls)
    log("Label Studio up at", base)
    s = requests.Session()
    s.headers["Authorization"] = "Token " + TOKEN

    def api(method, path, expect=(200, 201), **kw):
        r = s.request(method, base + path, timeout=120, **kw)
        if r.status_code not in expect:
            raise Failure("%s %s -> %d %s" % (method, path, r.status_code, r.text[:500]))
        return r.json() if r.text else None

    # Project, storage, tasks
    project = api("POST", "/api/projects", json={"title": "Annota e2e", "label_config": CONFIG})
    pid = project["id"]
    api("POST", "/api/storages/localfiles", json={
        "project": pid, "title": "scenes", "path": os.path.join(docroot, "images"), "use_blob_urls": True})
    tasks = []
    for name, objects in sorted(truth.items()):
        rough = []
        for label, x, y, w, h in objects:
            # A rough box: each side off by up to 7 px.
            l = x + rng.randint(-7, 7)
            t = y + rng.randint(-7, 7)
            r = x + w + rng.randint(-7, 7)
            b = y + h + rng.randint(-7, 7)
            rough.append({"x": l, "y": t, "width": r - l, "height": b - t})
        tasks.append({"data": {"image": "/data/local-files/?d=" + name, "annota_boxes": rough, "name": name}})
    api("POST", "/api/projects/%d/import" % pid, json=tasks)
    listed = api("GET", "/api/tasks?project=%d&page_size=1000" % pid)
    task_list = listed["tasks"] if isinstance(listed, dict) else listed
    check(len(task_list) == args.tasks, "imported %d tasks, expected %d" % (len(task_list), args.tasks))
    by_id = {t["id"]: t for t in task_list}
    log("project", pid, "with", len(task_list), "tasks")

    # ML backend, named after its model version (Label Studio copies the title into the
    # project's model_version; a mismatch makes scores read as null).
    version = requests.post(ml_url + "/setup", json={"project": str(pid)}, timeout=5).json()["model_version"]
    check(version == "annota-v0", "fresh backend reports %s, expected annota-v0" % version)
    ml = api("POST", "/api/ml", json={
        "url": ml_url, "project": pid, "title": version, "is_interactive": True})
    mlid = ml["id"]
    check(ml.get("state") in ("CO", "Connected", None) or True, "")
    log("ML backend", mlid, "state", ml.get("state"))

    # Predictions for all tasks, read back.
    api("POST", "/api/dm/actions?id=retrieve_tasks_predictions&project=%d" % pid,
        json={"selectedItems": {"all": True, "excluded": []}, "project": str(pid)})
    preds = api("GET", "/api/predictions/?project=%d" % pid)
    check(len(preds) == args.tasks, "Label Studio stored %d predictions for %d tasks (a backend failure is silent)"
          % (len(preds), args.tasks))
    scores = {}
    rough_iou, fitted_iou = [], []
    for p in preds:
        check(p.get("model_version") == "annota-v0", "prediction %s has model_version %r" % (p["id"], p.get("model_version")))
        check(p.get("score") is not None, "prediction %s has no score" % p["id"])
        t = by_id[p["task"]]
        name = t["data"]["name"]
        w0, h0 = 320, 240
        boxes = [r for r in p["result"] if r["type"] == "rectanglelabels"]
        check(len(boxes) == len(truth[name]), "task %d: %d boxes, expected %d" % (t["id"], len(boxes), len(truth[name])))
        for r in boxes:
            check(r["value"]["rectanglelabels"][0] in LABELS, "label %r not in the config" % r["value"]["rectanglelabels"])
            check(r.get("original_width") == w0 and r.get("original_height") == h0, "original size missing: %r" % r)
            box = (r["value"]["x"] * w0 / 100, r["value"]["y"] * h0 / 100,
                   r["value"]["width"] * w0 / 100, r["value"]["height"] * h0 / 100)
            best = max(iou(box, (x, y, w, h)) for _, x, y, w, h in truth[name])
            check(best > 0.5, "task %d: a predicted box overlaps no object (IoU %.2f)" % (t["id"], best))
            fitted_iou.append(best)
        for rb in t["data"]["annota_boxes"]:
            rough_iou.append(max(iou((rb["x"], rb["y"], rb["width"], rb["height"]), (x, y, w, h))
                                 for _, x, y, w, h in truth[name]))
        scores[p["task"]] = p["score"]
    log("read back", len(preds), "predictions; scores", sorted(scores.values()))
    log("mean IoU with the true boxes: rough %.3f, predicted %.3f" % (
        sum(rough_iou) / len(rough_iou), sum(fitted_iou) / len(fitted_iou)))

    # Uncertainty sampling serves the lowest score.
    api("PATCH", "/api/projects/%d" % pid, json={"sampling": "Uncertainty sampling", "model_version": "annota-v0"})
    nxt = api("GET", "/api/projects/%d/next/" % pid)
    low = min(scores.values())
    check(abs(scores[nxt["id"]] - low) < 1e-9,
          "next task %d has score %s, the lowest is %s" % (nxt["id"], scores[nxt["id"]], low))
    log("uncertainty sampling served task", nxt["id"], "score", scores[nxt["id"]], "(lowest", low, ")")

    # Interactive: drawn loose boxes around objects of the first tasks, through Label Studio.
    improved = 0
    tried = 0
    for t in task_list[:3]:
        for label, x, y, w, h in truth[t["data"]["name"]]:
            rough = (x - 6, y - 5, w + 12, h + 10)
            context = {"result": [{
                "from_name": "label", "to_name": "image", "type": "rectanglelabels", "original_width": 320,
                "original_height": 240,
                "value": {"x": rough[0] / 3.2, "y": rough[1] / 2.4, "width": rough[2] / 3.2,
                          "height": rough[3] / 2.4, "rectanglelabels": [label]}}]}
            t0 = time.time()
            answer = api("POST", "/api/ml/%d/interactive-annotating" % mlid, json={"task": t["id"], "context": context})
            elapsed = time.time() - t0
            data = answer.get("data") or {}
            result = data.get("result")
            check(result and len(result) == 1, "interactive answer for task %d: %s" % (t["id"], json.dumps(answer)[:400]))
            v = result[0]["value"]
            check(v["rectanglelabels"] == [label], "interactive label %r, drawn %r" % (v["rectanglelabels"], label))
            fitted = (v["x"] * 3.2, v["y"] * 2.4, v["width"] * 3.2, v["height"] * 2.4)
            before, after = iou(rough, (x, y, w, h)), iou(fitted, (x, y, w, h))
            check(after > before - 0.05, "interactive fit made task %d worse: IoU %.3f -> %.3f" % (t["id"], before, after))
            tried += 1
            improved += after > before + 0.01
            log("interactive fit task %d: IoU %.3f -> %.3f, confidence %s, %.0f ms through Label Studio"
                % (t["id"], before, after, result[0].get("score"), elapsed * 1000))
    check(improved > 0, "no interactive fit improved its drawn box (%d tried)" % tried)

    # Annotations -> webhooks -> retraining.
    annotated = 0
    for t in task_list[: max(4, args.tasks // 2)]:
        result = []
        for label, x, y, w, h in truth[t["data"]["name"]]:
            result.append({"from_name": "label", "to_name": "image", "type": "rectanglelabels",
                           "original_width": 320, "original_height": 240,
                           "value": {"x": x / 3.2, "y": y / 2.4, "width": w / 3.2, "height": h / 2.4,
                                     "rotation": 0, "rectanglelabels": [label]}})
        api("POST", "/api/tasks/%d/annotations" % t["id"], json={"result": result, "ground_truth": False})
        annotated += 1
    hooks = api("GET", "/api/webhooks/?project=%d" % pid)
    check(any(h.get("url", "").rstrip("/") == ml_url + "/webhook" for h in hooks),
          "Label Studio created no webhook for the backend: %s" % hooks)

    def settled(previous):
        # Training runs in the background, a round per burst of webhooks; wait until the version
        # has moved past `previous` and then stayed the same for 3 s.
        deadline = time.time() + 90
        current, since = previous, time.time()
        while time.time() < deadline:
            v = requests.post(ml_url + "/setup", json={"project": str(pid)}, timeout=5).json()["model_version"]
            if v != current:
                current, since = v, time.time()
            elif current != previous and time.time() - since > 3:
                break
            time.sleep(0.5)
        return current

    # Annotation webhooks alone retrain.
    trained = settled("annota-v0")
    check(trained != "annota-v0", "model_version did not advance after %d annotations (webhooks)" % annotated)
    log("after", annotated, "annotations (webhooks) the backend reports", trained)
    # So does Label Studio's "Start Training" (START_TRAINING webhook or the legacy /train call).
    api("POST", "/api/ml/%d/train" % mlid, json={})
    retrained = settled(trained)
    check(retrained != trained, "model_version did not advance after Start Training (still %s)" % trained)
    log("after Start Training the backend reports", retrained)
    trained = retrained

    # New predictions carry the new version (the project follows it).
    api("POST", "/api/dm/actions?id=retrieve_tasks_predictions&project=%d" % pid,
        json={"selectedItems": {"all": True, "excluded": []}, "project": str(pid)})
    preds = api("GET", "/api/predictions/?project=%d" % pid)
    # The project's model version (which scores sampling reads) follows the backend's.
    api("PATCH", "/api/projects/%d" % pid, json={"model_version": trained})
    newer = [p for p in preds if p.get("model_version") == trained]
    check(len(newer) >= args.tasks - annotated,
          "%d predictions with %s after retraining, expected at least %d" % (len(newer), trained, args.tasks - annotated))
    annotated_ids = {t["id"] for t in task_list[:annotated]}
    new_scores = {}
    correct = total = 0
    for p in newer:
        check(p.get("score") is not None, "prediction %s after training has no score" % p["id"])
        name = by_id[p["task"]]["data"]["name"]
        for r in p["result"]:
            if r["type"] == "rectanglelabels":
                label = r["value"]["rectanglelabels"][0]
                check(label in LABELS, "label %r not in config after training" % label)
                box = (r["value"]["x"] * 3.2, r["value"]["y"] * 2.4, r["value"]["width"] * 3.2, r["value"]["height"] * 2.4)
                true_label = max(truth[name], key=lambda o: iou(box, o[1:]))[0]
                correct += label == true_label
                total += 1
        if p["task"] not in annotated_ids:
            new_scores[p["task"]] = p["score"]
    log(len(newer), "predictions with", trained, "; labels right for %d of %d boxes" % (correct, total))
    # Uncertainty sampling again, now on the classifier's scores.
    nxt = api("GET", "/api/projects/%d/next/" % pid)
    low = min(new_scores.values())
    check(nxt["id"] in new_scores and abs(new_scores[nxt["id"]] - low) < 1e-9,
          "after training, next task %d has score %s, the lowest unlabeled is %s" % (nxt["id"], new_scores.get(nxt["id"]), low))
    log("uncertainty sampling served task", nxt["id"], "score", new_scores[nxt["id"]], "of", sorted(new_scores.values()))

    uploads(api, s, base, ml_url, work, rng, truth, docroot)

    if args.screenshot:
        # An unlabeled task, with the retrained model's pre-annotations.
        screenshot(args.screenshot, base, pid, task_list[-1]["id"], work)


def uploads(api, s, base, ml_url, work, rng, truth, docroot):
    """Images uploaded to Label Studio (not in annota-server's --images-root): the backend
    downloads them from the host and with the token Label Studio sends in /setup."""
    upload_dir = os.path.join(work, "uploads")
    os.makedirs(upload_dir)
    names = sorted(truth)[:3]
    files = []
    for name in names:
        path = os.path.join(upload_dir, os.path.basename(name))
        shutil.copyfile(os.path.join(docroot, name), path)
        # One form field per file: Label Studio reads one file per field name.
        files.append((os.path.basename(name), (os.path.basename(name), open(path, "rb"), "image/png")))
    project = api("POST", "/api/projects", json={"title": "Annota e2e uploads", "label_config": CONFIG})
    pid = project["id"]
    r = s.post(base + "/api/projects/%d/import" % pid, files=files, timeout=120)
    check(r.status_code in (200, 201), "upload import -> %d %s" % (r.status_code, r.text[:300]))
    listed = api("GET", "/api/tasks?project=%d&page_size=100" % pid)
    task_list = listed["tasks"] if isinstance(listed, dict) else listed
    check(len(task_list) == len(names), "uploaded %d images, Label Studio has %d tasks" % (len(names), len(task_list)))
    truth_of = {}
    for t in task_list:
        url = t["data"]["image"]
        check(url.startswith("/data/upload/"), "uploaded task %d has image URL %r" % (t["id"], url))
        name = next(n for n in names if url.endswith(os.path.basename(n)))
        truth_of[t["id"]] = truth[name]
        rough = []
        for label, x, y, w, h in truth[name]:
            l, tp = x + rng.randint(-7, 7), y + rng.randint(-7, 7)
            rough.append({"x": l, "y": tp, "width": x + w + rng.randint(-7, 7) - l,
                          "height": y + h + rng.randint(-7, 7) - tp})
        data = dict(t["data"], annota_boxes=rough)
        api("PATCH", "/api/tasks/%d" % t["id"], json={"data": data})
    version = requests.post(ml_url + "/setup", json={"project": str(pid)}, timeout=5).json()["model_version"]
    api("POST", "/api/ml", json={"url": ml_url, "project": pid, "title": version, "is_interactive": True})
    api("POST", "/api/dm/actions?id=retrieve_tasks_predictions&project=%d" % pid,
        json={"selectedItems": {"all": True, "excluded": []}, "project": str(pid)})
    preds = api("GET", "/api/predictions/?project=%d" % pid)
    check(len(preds) == len(names), "Label Studio stored %d predictions for %d uploaded images (a failed download is "
          "silent; see annota-server.log)" % (len(preds), len(names)))
    ious = []
    for p in preds:
        boxes = [r for r in p["result"] if r["type"] == "rectanglelabels"]
        objects = truth_of[p["task"]]
        check(len(boxes) == len(objects), "uploaded task %d: %d boxes, expected %d" % (p["task"], len(boxes), len(objects)))
        for r in boxes:
            check(r.get("original_width") == 320 and r.get("original_height") == 240, "original size: %r" % r)
            box = (r["value"]["x"] * 3.2, r["value"]["y"] * 2.4, r["value"]["width"] * 3.2, r["value"]["height"] * 2.4)
            ious.append(max(iou(box, o[1:]) for o in objects))
    check(min(ious) > 0.5, "a box predicted on an uploaded image overlaps no object (IoU %.2f)" % min(ious))
    log("uploaded images: %d predictions from images downloaded from Label Studio, mean IoU %.3f"
        % (len(preds), sum(ious) / len(ious)))


def screenshot(out, base, pid, task_id, work):
    """Saves Label Studio's labeling page of `task_id` (with Annota's pre-annotations) as a PNG.

    Logs in through Label Studio's form with requests, hands the session cookie to a headless
    Chromium and drives it over the DevTools protocol on a pipe (--remote-debugging-pipe: NUL-
    separated JSON on file descriptors 3 and 4, so no websocket library is needed).
    """
    import base64
    # Debian's /usr/bin/chromium is a shell wrapper that does not keep descriptors 3 and 4.
    chromium = next((c for c in ("/usr/lib/chromium/chromium", shutil.which("chromium"),
                                 shutil.which("chromium-browser")) if c and os.path.exists(c)), None)
    check(chromium, "--screenshot needs chromium (apt-get install chromium)")
    sess = requests.Session()
    sess.get(base + "/user/login/", timeout=30)
    r = sess.post(base + "/user/login/", data={"email": USER, "password": PASSWORD,
                                             "csrfmiddlewaretoken": sess.cookies.get("csrftoken")},
                  headers={"Referer": base + "/user/login/"}, timeout=30)
    check("sessionid" in sess.cookies, "screenshot: login failed (%d)" % r.status_code)
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()

    def wire():
        # Copies first (a pipe end may already sit on 3 or 4); dup2 makes them inheritable.
        a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
        os.dup2(a, 3)
        os.dup2(b, 4)

    profile = os.path.join(work, "chromium-profile")
    chrome = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
         "--user-data-dir=" + profile, "--window-size=1280,800", "--hide-scrollbars", "about:blank"],
        close_fds=False, preexec_fn=wire,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    pending = b""
    counter = [0]

    def send(method, params=None, session=None, wait=True):
        counter[0] += 1
        msg = {"id": counter[0], "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(to_chrome_w, json.dumps(msg).encode() + b"\0")
        nonlocal pending
        deadline = time.time() + 60
        while time.time() < deadline:
            while b"\0" in pending:
                raw, pending = pending.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == counter[0]:
                    check("error" not in reply, "DevTools %s: %s" % (method, reply.get("error")))
                    return reply.get("result", {})
            chunk = os.read(from_chrome_r, 1 << 20)
            check(chunk, "chromium closed the DevTools pipe")
            pending += chunk
        raise Failure("DevTools %s: no answer" % method)

    try:
        target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        send("Network.enable", session=session)
        for name in ("sessionid", "csrftoken"):
            send("Network.setCookie", {"name": name, "value": sess.cookies.get(name), "url": base}, session=session)
        send("Emulation.setDeviceMetricsOverride",
             {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}, session=session)
        send("Page.enable", session=session)
        send("Page.navigate", {"url": "%s/projects/%d/data?task=%d" % (base, pid, task_id)}, session=session)
        time.sleep(12)  # the labeling app loads its bundle, the task and the predictions
        shot = send("Page.captureScreenshot", {"format": "png"}, session=session)
        tmp = out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        os.replace(tmp, out)
        log("screenshot written to", out)
    finally:
        os.close(to_chrome_w)
        os.close(from_chrome_r)
        try:
            os.killpg(chrome.pid, signal.SIGTERM)
            chrome.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


if __name__ == "__main__":
    sys.exit(main())
