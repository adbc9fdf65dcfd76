"""The training examples of the bundled summarizer, without torch (so that
tests/tools/train_test.py checks them in CI): the source as heed encodes it,
one epoch's draw with at most a few pairs per near-duplicate cluster, and the
auxiliary copy examples."""


def source_ids(tokenizer, text, max_source):
    """<s> description </s>, cut to max_source tokens as heed's truncate_input
    cuts it (the last one stays </s>)."""
    ids = tokenizer.encode(text)
    return ids if len(ids) <= max_source else ids[:max_source - 1] + [2]


def copy_example(source, rng, opening, mask_id):
    """An auxiliary example that trains copying from the input: the source is
    the description tagged with a leading <mask>, with one span of 1-3 tokens
    in its first `opening` tokens replaced by <mask>; the target is those
    first tokens, unmasked. Real inputs never hold <mask>, so the tag keeps
    the two tasks apart. Returns (source, decoder input, labels) as the
    summarization pairs.
    A one-token span leaves the tagged source a token longer than the
    description, which may already fill the model's positions: the last token
    is dropped then, but only when it lies past the opening. A description no
    longer than the opening keeps every token (the target asks for all of
    them) and is far shorter than the positions."""
    body = source[1:-1]
    head = body[:opening]
    start = rng.randrange(len(head)) if head else 0
    masked = body[:start] + [mask_id] + body[start + rng.randint(1, 3):]
    src = [0, mask_id] + masked
    if len(body) > len(head):
        src = src[:len(source) - 1]
    src = src + [2]
    tgt = [0] + head + [2]
    return src, [2] + tgt[:-1], tgt


def epoch_examples(examples, clusters, rng, per_cluster, copy_share, opening, mask_id):
    """One epoch's examples: at most per_cluster pairs of each near-duplicate
    cluster (a new draw each epoch, so that a large package family is seen
    whole over the epochs but not learnt by heart), and a copy_example for
    a copy_share of them."""
    members = {}
    for index, cluster in enumerate(clusters):
        members.setdefault(cluster, []).append(index)
    chosen = [examples[i] for cluster in sorted(members)
              for i in rng.sample(members[cluster], min(per_cluster, len(members[cluster])))]
    copies = [copy_example(e[0], rng, opening, mask_id)
              for e in chosen if rng.random() < copy_share]
    return chosen + copies
