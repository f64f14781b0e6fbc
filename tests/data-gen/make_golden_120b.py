"""Golden logits for tests/engine/golden_120b_test.cpp: transformers on gpt-oss-120b's structure, shrunk in width.

Run on a machine with torch, transformers (>= 4.55; made with 5.17), safetensors and numpy, a GPU if there is
one, and a gptoss executable of the commit under test (any preset: only `make-checkpoint` is used):

    python3 tests/data-gen/make_golden_120b.py --gptoss build/cpu/tools/gptoss [--out tests/data/tiny-120b]

It writes the checkpoint with `gptoss make-checkpoint --preset tiny-120b --seed 120` (36 layers, 128 experts,
top-4, 16 query / 2 KV heads of 64, hidden 64, window 16, vocab 512; 43 MB, not checked in: the test writes
the same bytes again and checks their fingerprint), loads it with transformers exactly as the tiny-gptoss
fixture was (Mxfp4Config(dequantize=True), eager attention), and writes OUT/golden.safetensors and
OUT/golden.json in the tiny-gptoss fixture's format: per case `<case>.input_ids` int32 [T],
`<case>.logits_f32` / `<case>.logits_bf16` float32 [T, V], `<case>.greedy_f32` int32 [24].
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import torch
from safetensors.numpy import save_file

FP4 = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0],
               dtype=np.float32)
GREEDY_TOKENS = 24


def fingerprint(path):
    """The file as little-endian uint64 words w_i (zero-padded): sum of w_i * (2i + 1) mod 2^64 (as the test)."""
    data = open(path, "rb").read()
    data += b"\0" * (-len(data) % 8)
    words = np.frombuffer(data, dtype="<u8")
    odd = np.arange(len(words), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    return int((words * odd).sum(dtype=np.uint64))


def dequant(blocks, scales):
    """[..., G, 16] u8 + [..., G] u8 -> [..., G * 32] float32, low nibble first (gpt-oss-model.md section 3)."""
    vals = np.stack([FP4[blocks & 0x0F], FP4[blocks >> 4]], axis=-1).reshape(*blocks.shape[:-1], 32)
    vals = vals * np.exp2(scales.astype(np.float32) - 127.0)[..., None]
    return vals.reshape(*blocks.shape[:-2], blocks.shape[-2] * 32)


def check_expert_decoding(model, ckpt, layers):
    """transformers' dequantized experts must equal our decoding, transposed ([E, in, out])."""
    from safetensors import safe_open
    f = safe_open(os.path.join(ckpt, "model.safetensors"), framework="np")  # the u8 tensors only: numpy has no bf16
    for l in layers:
        p = f"model.layers.{l}.mlp.experts."
        ex = model.model.layers[l].mlp.experts
        for name, param in (("gate_up_proj", ex.gate_up_proj), ("down_proj", ex.down_proj)):
            blocks, scales = f.get_tensor(p + name + "_blocks"), f.get_tensor(p + name + "_scales")
            ours = dequant(blocks, scales).transpose(0, 2, 1)
            theirs = param.detach().float().cpu().numpy()
            assert theirs.shape == ours.shape and np.array_equal(theirs, ours), f"layer {l} {name} differs"


def greedy(model, ids, dev):
    """GREEDY_TOKENS argmax steps, each a full forward (no cache, no EOS stop); and the smallest top-2 margin."""
    seq, margin = list(ids), float("inf")
    with torch.no_grad():
        for _ in range(GREEDY_TOKENS):
            last = model(torch.tensor([seq], device=dev)).logits[0, -1].float()
            top = torch.topk(last, 2).values
            margin = min(margin, float(top[0] - top[1]))
            seq.append(int(torch.argmax(last)))  # the lowest id among equal maxima, as our sampler
    return np.array(seq[len(ids):], dtype=np.int32), margin


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gptoss", required=True, help="a gptoss executable of the commit under test")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "tiny-120b"))
    ap.add_argument("--preset", default="tiny-120b")
    ap.add_argument("--seed", type=int, default=120)
    ap.add_argument("--keep-checkpoint", help="write the checkpoint here instead of a temporary folder")
    a = ap.parse_args()

    tmp = None if a.keep_checkpoint else tempfile.TemporaryDirectory(prefix="tiny-120b-")
    ckpt = a.keep_checkpoint or tmp.name
    command = [a.gptoss, "make-checkpoint", "--preset", a.preset, "--seed", str(a.seed), "--out", ckpt]
    subprocess.run(command, check=True)
    files = sorted(f for f in os.listdir(ckpt) if f.endswith(".safetensors"))
    fingerprints = {f: fingerprint(os.path.join(ckpt, f)) for f in files}
    cfg = json.load(open(os.path.join(ckpt, "config.json")))
    V, W = cfg["vocab_size"], cfg["sliding_window"]

    import transformers
    from transformers import GptOssForCausalLM, Mxfp4Config
    torch.set_float32_matmul_precision("highest")  # no TF32: the goldens are float32
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model = GptOssForCausalLM.from_pretrained(ckpt, quantization_config=Mxfp4Config(dequantize=True),
                                              dtype=torch.bfloat16, attn_implementation="eager").to(dev).eval()
    check_expert_decoding(model, ckpt, [0, cfg["num_hidden_layers"] - 1])

    rng = np.random.default_rng(a.seed)
    prompts = {  # ids below V - 2 (eos and pad of a synthetic vocabulary)
        "p_one": [int(rng.integers(0, V - 2))],
        "p_short": [int(x) for x in rng.integers(0, V - 2, 7)],
        "p_window": [int(x) for x in rng.integers(0, V - 2, 3 * W + 5)],
        "p_long": [int(x) for x in rng.integers(0, V - 2, 8 * W + 3)],
    }
    gold = {}
    meta = {"name": "tiny-120b", "preset": a.preset, "seed": a.seed,
            "command": "gptoss make-checkpoint --preset {} --seed {}".format(a.preset, a.seed),
            "checkpoint_fingerprints": fingerprints,
            "dims": {k: cfg[k] for k in ("hidden_size", "intermediate_size", "num_hidden_layers",
                                         "num_attention_heads", "num_key_value_heads", "head_dim",
                                         "num_local_experts", "num_experts_per_tok", "sliding_window",
                                         "vocab_size")},
            "loaded_with": "transformers Mxfp4Config(dequantize=True), attn_implementation eager",
            "transformers": transformers.__version__, "torch": torch.__version__, "device": dev, "cases": {}}
    m32 = model.float()
    with torch.no_grad():
        for k, ids in prompts.items():
            lg = m32(torch.tensor([ids], device=dev)).logits[0].float().cpu().numpy()
            gold[k + ".input_ids"] = np.array(ids, dtype=np.int32)
            gold[k + ".logits_f32"] = lg.astype(np.float32)
            gold[k + ".greedy_f32"], margin = greedy(m32, ids, dev)
            meta["cases"][k] = {"len": len(ids), "greedy_min_margin": margin,
                                "logit_absmax": float(np.abs(lg).max()), "logit_std": float(lg.std())}
    mbf = model.to(torch.bfloat16)
    with torch.no_grad():
        for k, ids in prompts.items():
            lg = mbf(torch.tensor([ids], device=dev)).logits[0].float().cpu().numpy()
            gold[k + ".logits_bf16"] = lg.astype(np.float32)
            ref = gold[k + ".logits_f32"]
            meta["cases"][k]["bf16_vs_f32_rel"] = float(np.linalg.norm(lg - ref) / np.linalg.norm(ref))

    os.makedirs(a.out, exist_ok=True)
    save_file(gold, os.path.join(a.out, "golden.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(a.out, "golden.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
