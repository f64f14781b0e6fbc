#!/usr/bin/env python3
"""The CLI acceptance checks on the GPU machine (needs numpy + safetensors, which it has).

  check_cli.py score GPTOSS TINY_DIR BACKEND      gptoss score on every golden case: rel-L2 vs logits_f32,
                                                  beside transformers' own bf16_vs_f32_rel (gate: 2x)
  check_cli.py generate GPTOSS TOY_DIR BACKEND    gptoss generate on every toy-harmony golden prompt: exact
                                                  equality with the golden greedy ids
  check_cli.py chat URL MODEL                     one streamed chat completion from a running gptoss serve:
                                                  prints the SSE lines, checks for deltas and [DONE]
  check_cli.py ncu CSV                            per-kernel GPU time from `ncu --csv --metrics
                                                  gpu__time_duration.sum`, per step (steps = sampling launches)
Exit status 1 when a check fails.
"""
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from safetensors.numpy import load_file


def score(gptoss, tiny, backend):
    golden = load_file(os.path.join(tiny, "golden.safetensors"))
    meta = json.load(open(os.path.join(tiny, "golden.json")))
    ok = True
    for case in sorted(meta["cases"]):
        ids = golden[case + ".input_ids"]
        ref = golden[case + ".logits_f32"].astype(np.float64)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "logits.safetensors")
            subprocess.run([gptoss, "score", "--backend", backend, "--model", tiny, "--ids",
                            ",".join(str(int(i)) for i in ids), "--out", out], check=True)
            got = load_file(out)["logits"].astype(np.float64)
        rel = np.linalg.norm(got - ref) / np.linalg.norm(ref)
        bf16 = meta["cases"][case]["bf16_vs_f32_rel"]
        passed = rel <= 2 * bf16
        ok &= passed
        print(f"[ score {case:9s} ] T={len(ids):3d} {backend} vs f32 rel_l2 {rel:.4f}   transformers bf16 vs f32 "
              f"{bf16:.4f}   ratio {rel / bf16:.2f}   {'ok' if passed else 'FAIL'}")
    return ok


def generate(gptoss, toy, backend):
    cases = json.load(open(os.path.join(toy, "golden.json")))["cases"]

    def run(case):
        prompt, expected = case["prompt_ids"], case["greedy_ids"]
        out = subprocess.run([gptoss, "generate", "--backend", backend, "--model", toy, "--ids",
                              ",".join(map(str, prompt)), "--max-tokens", str(len(expected) + 16)],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out) == expected

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, cases))
    print(f"[ generate toy-harmony ] {backend} greedy equals golden on {sum(results)} of {len(results)} cases")
    return all(results)


def chat(url, model):
    import urllib.request
    body = json.dumps({"model": model, "stream": True, "max_tokens": 32,
                       "messages": [{"role": "user", "content": "Hello! Who are you?"}]}).encode()
    request = urllib.request.Request(url + "/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    chunks, done = 0, False
    with urllib.request.urlopen(request, timeout=300) as response:
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue
            print(line[:300])
            payload = line[5:].strip()
            if payload == "[DONE]":
                done = True
            else:
                chunks += "choices" in json.loads(payload)
    print(f"[ serve chat ] streamed {chunks} chunks, [DONE] {'seen' if done else 'MISSING'}")
    return chunks > 0 and done


def ncu(csv_path):
    """Per-kernel GPU time of the last decode steps: the kernels after one sample_kernel launch up to and
    including the next (loading, the prefill and the first steps are left out)."""
    import csv
    import re
    with open(csv_path) as f:
        lines = [line for line in f if line.startswith('"')]
    rows = [r for r in csv.DictReader(lines) if r.get("Metric Name") == "gpu__time_duration.sum"]
    scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3}
    kernels = [(re.sub(r"\(.*", "", r["Kernel Name"]).split("::")[-1][:60] + " " + r["Grid Size"],
                float(r["Metric Value"].replace(",", "")) * scale.get(r.get("Metric Unit", "us"), 1.0))
               for r in rows]
    ends = [i for i, (name, _) in enumerate(kernels) if name.startswith("sample_kernel")]
    if len(ends) < 3:
        print(f"[ profile ] only {len(ends)} sampling launches in {csv_path}")
        return False
    last = ends[-min(5, len(ends)):]
    steps = len(last) - 1
    totals, counts = {}, {}
    for name, us in kernels[last[0] + 1:last[-1] + 1]:
        totals[name] = totals.get(name, 0.0) + us
        counts[name] = counts.get(name, 0) + 1
    total = sum(totals.values())
    print(f"[ profile ] last {steps} decode steps: GPU time {total / steps:.1f} us per step (kernels serialised "
          f"by ncu), {sum(counts.values()) / steps:.0f} kernels per step")
    for name, t in sorted(totals.items(), key=lambda kv: -kv[1])[:20]:
        print(f"[ profile ] {t / steps:9.1f} us/step  {counts[name] / steps:5.1f} x  {name}")
    return True


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "ncu":
        sys.exit(0 if ncu(sys.argv[2]) else 1)
    if what == "chat":
        sys.exit(0 if chat(sys.argv[2], sys.argv[3]) else 1)
    gptoss, model, backend = sys.argv[2:5]
    sys.exit(0 if {"score": score, "generate": generate}[what](gptoss, model, backend) else 1)
