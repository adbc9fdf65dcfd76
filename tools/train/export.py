"""Writes a trained module as a Hugging Face model directory and checks that
the independent reference (tools/reference/models.py) computes the same
outputs from the written files."""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import models  # noqa: E402
import safetensors_np  # noqa: E402


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, ensure_ascii=False)
        f.write("\n")


def save_weights(model, path, dtype):
    """Parameters and buffers under their Hugging Face names."""
    tensors = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    safetensors_np.save(os.path.join(path, "model.safetensors"), tensors, {"format": "pt"},
                        dtype=dtype)


def load_rounded(model, path):
    """Loads the written (possibly bf16-rounded) weights back into the module,
    so that evaluation measures exactly what ships."""
    tensors = safetensors_np.load(os.path.join(path, "model.safetensors"))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})


def check_seq2seq(model, path, src_ids, tgt_in):
    """Max |difference| of logits between the training module (eval mode) and
    the reference reading `path`, for one sequence."""
    reference = models.Seq2Seq(path)
    model.eval()
    with torch.no_grad():
        ours = model(torch.tensor([src_ids]), torch.tensor([tgt_in]))[0].double()
    memory = reference.encode(src_ids)
    caches = [dict() for _ in range(reference.config["decoder_layers"])]
    theirs, _ = reference.decode_step(memory, tgt_in, caches, 0)
    return float((ours - theirs).abs().max())


def check_classifier(model, path, ids):
    reference = models.Classifier(path)
    model.eval()
    with torch.no_grad():
        ours = model(torch.tensor([ids]))[0].double()
    return float((ours - reference.logits(ids)).abs().max())
