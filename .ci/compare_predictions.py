"""Compare two `edge-predict --json --top-k 10` outputs: same paths, same digits, every
probability within a tolerance (default 1e-5).
Usage: compare_predictions.py REFERENCE.jsonl OTHER.jsonl [TOLERANCE]"""

import json
import sys

TOLERANCE = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-5


def load(path):
    return {record["path"]: record for record in map(json.loads, open(path, encoding="utf-8"))}


reference, other = load(sys.argv[1]), load(sys.argv[2])
if reference.keys() != other.keys():
    sys.exit(f"different images: {sorted(reference.keys() ^ other.keys())}")
worst = 0.0
for path, ref in reference.items():
    if ref["digit"] != other[path]["digit"]:
        sys.exit(f"{path}: digit {ref['digit']} vs {other[path]['digit']}")
    ref_probabilities = {p["digit"]: p["probability"] for p in ref["top_k"]}
    for p in other[path]["top_k"]:
        worst = max(worst, abs(p["probability"] - ref_probabilities[p["digit"]]))
if worst > TOLERANCE:
    sys.exit(f"probabilities differ by {worst:.2e} > {TOLERANCE:.0e}")
print(f"{len(reference)} images: same digits, probabilities within {worst:.1e}")
