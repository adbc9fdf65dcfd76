"""The training loop the three demo models share: token-budget batches,
Adam with linear warm-up and cosine decay, label smoothing, bf16 autocast for
the matrix products (master weights stay f32), progress lines with tokens/s."""
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def run_under_jemalloc():
    """Re-executes this script with jemalloc (Debian's libjemalloc2) holding
    on to the memory it frees, when installed and not yet loaded. Under glibc's
    malloc the summarizer's training (activations of a new shape at every
    step) slowed from 850 to 590 target tokens/s within its first epoch, and
    under jemalloc with its default decay it stayed there (170,000 page faults
    a second, a fifth of the CPU time in the kernel); under jemalloc that keeps
    what it frees it runs at about 800."""
    if os.path.exists(JEMALLOC) and "jemalloc" not in os.environ.get("LD_PRELOAD", ""):
        env = dict(os.environ, LD_PRELOAD=JEMALLOC,
                   MALLOC_CONF="dirty_decay_ms:-1,muzzy_decay_ms:-1")
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)
    sys.stdout.flush()


def token_batches(examples, max_tokens, rng, length=lambda e: max(len(e[0]), len(e[-1]))):
    """Groups examples of similar length into batches of about max_tokens
    (padded) tokens, in a shuffled order."""
    order = sorted(range(len(examples)), key=lambda i: (length(examples[i]), rng.random()))
    batches, current, longest = [], [], 0
    for i in order:
        n = length(examples[i])
        if current and max(longest, n) * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(examples[i])
        longest = max(longest, n)
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def pad(rows, value):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def smoothed_loss(logits, labels, ignore, smoothing):
    """Mean label-smoothed cross entropy over non-ignored labels, and their count."""
    logits = logits.reshape(-1, logits.shape[-1]).float()
    labels = labels.reshape(-1)
    keep = labels != ignore
    logp = F.log_softmax(logits[keep], dim=-1)
    nll = -logp.gather(1, labels[keep][:, None]).squeeze(1)
    loss = (1 - smoothing) * nll - smoothing * logp.mean(dim=-1)
    return loss.mean(), nll.sum().item(), int(keep.sum())


def greedy_in_length_order(model, sources, pad_id, start, eos, max_len, forced_bos=None,
                           batch=64):
    """Greedy outputs of encoded sources (batched by length, without the cache;
    for evaluation during training), each cut before its EOS, in input order."""
    outputs = [None] * len(sources)
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    for b in range(0, len(order), batch):
        idx = order[b:b + batch]
        src = pad([sources[i] for i in idx], pad_id)
        for i, ids in zip(idx, model.greedy(src, start, eos, max_len, forced_bos=forced_bos)):
            outputs[i] = ids[:ids.index(eos)] if eos in ids else ids
    return outputs


class Schedule:
    def __init__(self, peak, warmup, total):
        self.peak, self.warmup, self.total = peak, warmup, total

    def __call__(self, step):
        if step < self.warmup:
            return self.peak * (step + 1) / self.warmup
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return self.peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def train(model, epochs, make_batches, step_loss, peak_lr, warmup, bf16=True,
          evaluate=None, weight_decay=0.0, log_every=50, checkpoint=None,
          checkpoint_minutes=5.0):
    """epochs may be fractional: the last one stops part-way.
    make_batches(epoch) → list of batches (the same for the same epoch);
    step_loss(batch) → (loss, nll_sum, tokens). With a checkpoint path, the
    model, the optimizer and the position in the epoch are saved there every
    checkpoint_minutes and after each epoch, and a run that finds one resumes
    from it."""
    batches_per_epoch = len(make_batches(0))
    total = int(epochs * batches_per_epoch)
    schedule = Schedule(peak_lr, warmup, total)
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak_lr, betas=(0.9, 0.98), eps=1e-9,
                                  weight_decay=weight_decay)
    step, first_epoch, skip, elapsed = 0, 0, 0, 0.0
    if checkpoint and os.path.exists(checkpoint):
        state = torch.load(checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, first_epoch, skip, elapsed = (state[k] for k in ("step", "epoch", "batch",
                                                                "seconds"))
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed from {checkpoint}: epoch {first_epoch + 1}, batch {skip}, step {step}")

    def save(epoch, batch):
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "step": step, "epoch": epoch, "batch": batch,
                    "seconds": elapsed + time.time() - start,
                    "torch_rng": torch.get_rng_state()}, checkpoint + ".part")
        os.replace(checkpoint + ".part", checkpoint)

    log(f"{sum(p.numel() for p in model.parameters()):,} parameters, {epochs} epochs × "
        f"{batches_per_epoch} batches, peak lr {peak_lr}, bf16 autocast {bf16}")
    start, start_step, last_save = time.time(), step, time.time()
    for epoch in range(first_epoch, math.ceil(epochs)):
        model.train()
        nll_sum, tokens, window_start, window_tokens = 0.0, 0, time.time(), 0
        for index, batch in enumerate(make_batches(epoch)):
            if epoch == first_epoch and index < skip:
                continue
            if step == total:
                break
            for group in optimizer.param_groups:
                group["lr"] = schedule(step)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss, nll, n = step_loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            nll_sum, tokens, window_tokens = nll_sum + nll, tokens + n, window_tokens + n
            if step % log_every == 0:
                rate = window_tokens / (time.time() - window_start)
                eta = (total - step) * (time.time() - start) / (step - start_step)
                log(f"epoch {epoch + 1} step {step}/{total} nll/token {nll_sum / tokens:.3f} "
                    f"lr {schedule(step):.2e} {rate:,.0f} tokens/s, eta {eta / 60:.1f} min")
                window_start, window_tokens = time.time(), 0
            if checkpoint and time.time() - last_save > checkpoint_minutes * 60:
                save(epoch, index + 1)
                last_save = time.time()
        log(f"epoch {epoch + 1} done: train nll/token {nll_sum / max(1, tokens):.3f}, "
            f"{(elapsed + time.time() - start) / 60:.1f} min so far")
        if evaluate is not None:
            model.eval()
            evaluate(epoch)
        if checkpoint:
            save(epoch + 1, 0)
    return elapsed + time.time() - start
