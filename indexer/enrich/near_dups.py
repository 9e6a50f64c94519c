"""Near-duplicates: items whose text is nearly the same share a `near_dup_group`.

A WhatsApp message pasted into an email, a reply with the quote trimmed, a document re-saved
with one paragraph changed: not exact duplicates, but the same evidence. Each body of at least
`min_words` words gets a MinHash signature (datasketch) over its 5-word shingles, computed in
the enrichment stage and stored on the item (`minhash`, base64, never searched). After each
ingest, `near_dup_index` reads the signatures back, finds candidate pairs with MinHash LSH
(banded for recall), keeps the pairs whose estimated Jaccard similarity is at least the threshold
(`LANTERN_NEAR_DUP_THRESHOLD`, default 0.8), and joins them transitively (union-find). Groups
span runs and custodians, so the pass covers the whole index; it writes only what changed.

Memory: the pass holds every signature, 64 permutations as uint32 in one array = 256 bytes
per item (datasketch's old default, 128 permutations as uint64, would be 1 KB), plus the item
ids and datasketch's in-memory LSH tables, which dominate: 10 bands, each a dict entry and a
set per item. Measured at 100,000 distinct signatures: about 4 KB per item in all, so about
4 GB for a million items with a body of 20+ words (and ~30 s of CPU per 100,000 on one
core). Identical signatures (exact copies) are collapsed before the LSH, which helps when one
newsletter is held 1,000 times. Beyond a few million items, move the LSH to datasketch's
Redis storage (`storage_config`) or run the pass per collection.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from opensearchpy import OpenSearch, helpers

from indexer.enrich.threads import _UnionFind

NUM_PERM = 64
SHINGLE_WORDS = 5
SCHEME = "affine32"  # datasketch ≥ 2.0: uint32 hash values
SEED = 1
_WORD = re.compile(r"\w+")
# Band shape weighted for recall (false negatives cost 19x false positives): every candidate is
# verified against the threshold, so extra candidates cost a comparison, a missed pair costs a miss.
# At threshold 0.8 this gives 10 bands of 6 rows: a pair at 0.8 is a candidate 95% of the time
# (datasketch's balanced default, 5 bands of 11 rows, finds it 36% of the time).
LSH_WEIGHTS = (0.05, 0.95)


@lru_cache(maxsize=1)
def _permutations():
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """The distinct `size`-word shingles of `text`, lower-cased, punctuation and quote marks ignored."""
    words = _WORD.findall(text.lower())
    if len(words) <= size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i:i + size]).encode() for i in range(len(words) - size + 1)}


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def signature(text: str, min_words: int = 20) -> str | None:
    """The stored MinHash signature of `text` (base64 of 64 little-endian uint32), or None when too short."""
    if word_count(text) < min_words:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_permutations(), scheme=SCHEME)
    distinct = list(shingles(text))
    for start in range(0, len(distinct), 20_000):  # update_batch builds a shingles x permutations matrix
        minhash.update_batch(distinct[start:start + 20_000])
    return base64.b64encode(minhash.hashvalues.astype("<u4").tobytes()).decode("ascii")


def decode(stored: str) -> np.ndarray:
    """The hash values of a stored signature."""
    return np.frombuffer(base64.b64decode(stored), dtype="<u4").astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


def compute_groups(signatures: dict[str, str], threshold: float) -> dict[str, str]:
    """item_id → near_dup_group for the items that have at least one near-duplicate among `signatures`."""
    by_signature: dict[str, list[str]] = {}
    for item_id, stored in signatures.items():
        by_signature.setdefault(stored, []).append(item_id)
    unique = list(by_signature)
    values = np.empty((len(unique), NUM_PERM), dtype=np.uint32)  # one block: 256 bytes a signature
    for n, stored in enumerate(unique):
        values[n] = decode(stored)
    links = _UnionFind()  # over row numbers, not ids, to keep the pass small
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, weights=LSH_WEIGHTS)
    for n in range(len(unique)):
        lean = LeanMinHash(seed=SEED, hashvalues=values[n], scheme=SCHEME)
        for other in lsh.query(lean):
            if links.find(n) != links.find(other) and similarity(values[n], values[other]) >= threshold:
                links.union(n, other)
        lsh.insert(n, lean, check_duplication=False)
    members: dict[int, list[str]] = {}
    for n, stored in enumerate(unique):
        members.setdefault(links.find(n), []).extend(by_signature[stored])
    groups: dict[str, str] = {}
    for ids in members.values():
        if len(ids) > 1:
            group = "near:" + hashlib.sha256(min(ids).encode()).hexdigest()[:24]
            groups.update((item_id, group) for item_id in ids)
    return groups


def _scan(client: OpenSearch, index: str) -> Iterator[tuple[str, str | None, str | None]]:
    query = {"query": {"bool": {"should": [{"exists": {"field": "minhash"}}, {"exists": {"field": "near_dup_group"}}]}},
             "_source": ["minhash", "near_dup_group"]}
    for hit in helpers.scan(client, index=index, query=query, size=2000):
        yield hit["_id"], hit["_source"].get("minhash"), hit["_source"].get("near_dup_group")


def near_dup_index(client: OpenSearch, index: str, threshold: float = 0.8) -> int:
    """Recompute `near_dup_group` over the whole index; write only the items whose group changed. Returns that count."""
    signatures: dict[str, str] = {}
    stored_groups: dict[str, str] = {}
    for item_id, stored, group in _scan(client, index):
        if stored:
            signatures[item_id] = stored
        if group:
            stored_groups[item_id] = group
    groups = compute_groups(signatures, threshold)
    changed = [item_id for item_id in signatures.keys() | stored_groups.keys() if groups.get(item_id) != stored_groups.get(item_id)]
    actions = ({"_op_type": "update", "_index": index, "_id": item_id, "doc": {"near_dup_group": groups.get(item_id)}}
               for item_id in changed)
    written, _ = helpers.bulk(client, actions, chunk_size=1000, raise_on_error=True)
    if written:
        client.indices.refresh(index=index)
    return written
