"""Search-quality ablation and cross-validation over indexed evaluation sets (issue 17).

Usage:
    python benchmarks/quality_cv.py --set dev=/tmp/devlib:GT.json:VIDEOS [--set extra=LIB:GT:VIDEOS ...]
        [--grid beta=10,20,30] [--ablate] [--templates]

Each ``--set`` is an indexed library, its ground truth and its videos folder (the dev set, the
extra material of ``benchmarks/extra_set``). Folds are the sets' videos: a query belongs to the
fold of its first ground-truth video, so no fold shares footage with another. ``--grid`` chooses
a constant by leave-one-fold-out: for each fold the value best on the other folds is scored on
it; the table reports the held-out mean and the fold-to-fold spread (min-max) for that choice,
beside every fixed value. ``--ablate`` prints the mechanisms alone and together.
``--templates`` compares query prompt templates (CLIP-style prompt engineering and
ensembling on the query side, the bank embedded the same way), per fold and by
leave-one-fold-out (docs/MODELS.md, "Query templates"; "plain" is the query as typed, whatever the model ships).

Query vectors and per-video vectors are cached between settings, so a grid takes seconds per
value on an indexed library.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from vsearch import evaluate  # noqa: E402
from vsearch.embed.base import embed_templated, query_templates  # noqa: E402
from vsearch.query import bank as qbank  # noqa: E402
from vsearch.query import calibrate, gating  # noqa: E402
from vsearch.query.engine import QueryEngine  # noqa: E402
from vsearch.query.moments import MomentParams  # noqa: E402
from vsearch.query.screen_text import ScreenTextSearcher  # noqa: E402
from vsearch.query.search import Searcher, SearchOptions  # noqa: E402
from vsearch.query.speech import SpeechSearcher  # noqa: E402
from vsearch.service import Service  # noqa: E402

METRICS = ("video_R@1", "moment_R@1_tIoU0.5", "mIoU")
_TEMPERATURE, _QUOTED_VISUAL = gating.TEMPERATURE, gating.QUOTED_VISUAL


@dataclass
class EvalSet:
    name: str
    svc: Service
    gt: dict
    folder: str

    def engine(self) -> QueryEngine:
        svc = self.svc
        return QueryEngine(
            svc.library,
            svc.searcher(),
            SpeechSearcher(svc.library.speech, svc.sentence_encoder),
            ScreenTextSearcher(svc.library.screen_text, svc.sentence_encoder),
        )


def folds_of(sets: list[EvalSet]) -> dict[str, list[tuple[EvalSet, dict]]]:
    """Fold name (set:video) -> its queries."""
    out: dict[str, list[tuple[EvalSet, dict]]] = {}
    for es in sets:
        for q in es.gt["queries"]:
            out.setdefault(f"{es.name}:{q['moments'][0]['video']}", []).append((es, q))
    return out


def run(sets: list[EvalSet], config: dict[str, object]) -> dict[str, dict[str, dict[str, float]]]:
    """Per set, per query id, the metrics of one configuration."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for es in sets:
        apply(es, config)
        eng, opts = es.engine(), SearchOptions(k=10, folder=es.folder)
        only = config.get("only")
        preds = evaluate.predict(es.gt, lambda text, eng=eng, opts=opts, only=only: eng.search(text, opts, only=only))  # type: ignore[arg-type,misc]
        out[es.name] = {q["id"]: evaluate.score_query(q, preds.get(q["id"]) or []) for q in es.gt["queries"]}
    return out


def apply(es: EvalSet, config: dict[str, object]) -> None:
    """Set one configuration on a set's experts (the bank, beta, calibration, moment knobs)."""
    s = es.svc.searcher()
    assert s is not None
    if config.get("bank", True):
        base = qbank.for_model(s.embedder.model_id, s.embedder.embed_text, es.svc.dirs.cache, query_templates(s.embedder))
        beta = float(config.get("beta", qbank.BETA))  # type: ignore[arg-type]
        want = qbank.QueryBank(base.vectors, beta) if beta != base.beta else base
    else:
        want = None
    if (s.bank is None) != (want is None) or (want is not None and s.bank is not None and s.bank.beta != want.beta):
        _set_bank(s, want)
    s.params = MomentParams(**config.get("moments", {}))  # type: ignore[arg-type]
    calibrate.PARAMS = replace(calibrate.DEFAULT, **config.get("calibrate", {}))  # type: ignore[arg-type]
    gating.TEMPERATURE = float(config.get("temperature", _TEMPERATURE))  # type: ignore[arg-type]
    gating.QUOTED_VISUAL = float(config.get("quoted_visual", _QUOTED_VISUAL))  # type: ignore[arg-type]


def _set_bank(s: Searcher, bank: qbank.QueryBank | None) -> None:
    """Give a searcher another query bank and drop what was computed with the old one."""
    s.bank = bank
    s._vcache.clear()  # offsets depend on the bank
    s._act = None
    s._cache_gen = -1


def mean(per_q: dict[str, dict[str, dict[str, float]]], ids: list[tuple[str, str]]) -> dict[str, float]:
    return {m: 100 * statistics.fmean(per_q[s][q][m] for s, q in ids) for m in METRICS} if ids else {}


def table_row(name: str, per_q: dict, folds: dict[str, list[tuple[EvalSet, dict]]]) -> str:
    cells = []
    for es_name in sorted({f.split(":")[0] for f in folds}):
        ids = [(es.name, q["id"]) for f, qs in folds.items() for es, q in qs if es.name == es_name]
        m = mean(per_q, ids)
        extra = ""
        for kind in ("within", "spoken"):
            ids_k = [(es.name, q["id"]) for qs in folds.values() for es, q in qs if es.name == es_name and q.get("type") == kind]
            w = mean(per_q, ids_k)
            extra += f" {kind} {w['video_R@1']:.0f}/{w['moment_R@1_tIoU0.5']:.0f}" if w else ""
        cells.append(f"{es_name} " + "/".join(f"{m[k]:.1f}" for k in METRICS) + extra)
    fold_scores = [objective(mean(per_q, [(es.name, q["id"]) for es, q in qs])) for qs in folds.values()]
    return f"{name:34s} " + "  ".join(cells) + f"  folds {min(fold_scores):.1f}-{max(fold_scores):.1f}"


def objective(m: dict[str, float]) -> float:
    """What a constant is chosen for: moment R@1@0.5 plus mIoU (video R@1 follows them)."""
    return (m["moment_R@1_tIoU0.5"] + m["mIoU"]) / 2 if m else 0.0


def loo_choice(
    sets: list[EvalSet], key: str, values: list[float], base: dict[str, object], setter: Callable[[dict, float], dict]
) -> None:
    folds = folds_of(sets)
    runs = {v: run(sets, setter(dict(base), v)) for v in values}
    for v, per_q in runs.items():
        print(table_row(f"{key}={v:g}", per_q, folds))
    held, chosen = [], []
    for f, qs in folds.items():
        others = [(es.name, q["id"]) for g, oq in folds.items() if g != f for es, q in oq]
        best = max(values, key=lambda v: objective(mean(runs[v], others)))
        chosen.append(best)
        held.append(objective(mean(runs[best], [(es.name, q["id"]) for es, q in qs])))
    print(
        f"leave-one-fold-out {key}: chosen {sorted(set(chosen))}, held-out objective "
        f"{statistics.fmean(held):.1f} (folds {min(held):.1f}-{max(held):.1f}, n={len(held)})"
    )


TEMPLATES: dict[str, tuple[str, ...]] = {
    "plain": ("{}",),
    "photo": ("a photo of {}",),  # the form of the starter's label prompts ("a photo of a {name}.")
    "ensemble": ("{}", "a photo of {}", "a video frame showing {}"),
    "pair": ("{}", "a photo of {}"),
}


def compare_templates(sets: list[EvalSet]) -> None:
    """Each template set on the query and the bank; per-fold objectives and the leave-one-fold-out choice."""
    folds = folds_of(sets)
    runs = {}
    for name, templates in TEMPLATES.items():
        for es in sets:
            s = es.svc.searcher()
            assert s is not None
            plain = s.embedder.embed_text
            s.query_vector = lambda text, plain=plain, t=templates: embed_templated(plain, [text], t)[0]  # type: ignore[method-assign]
            _set_bank(s, qbank.QueryBank(qbank.embed(plain, templates), qbank.BETA))
        runs[name] = run(sets, {})
        print(table_row(name, runs[name], folds), flush=True)
    ids = lambda qs: [(es.name, q["id"]) for es, q in qs]  # noqa: E731
    print(f"{'fold':16s} {'n':>3s} " + " ".join(f"{n:>9s}" for n in runs))
    for f, qs in folds.items():
        print(f"{f:16s} {len(qs):3d} " + " ".join(f"{objective(mean(r, ids(qs))):9.1f}" for r in runs.values()))
    held, chosen = [], []
    for f, qs in folds.items():
        others = [x for g, oq in folds.items() if g != f for x in ids(oq)]
        best = max(runs, key=lambda n: objective(mean(runs[n], others)))
        chosen.append(best)
        held.append(objective(mean(runs[best], ids(qs))))
    base = [objective(mean(runs["plain"], ids(qs))) for qs in folds.values()]
    print(
        f"leave-one-fold-out template: chosen {chosen}, held-out objective {statistics.fmean(held):.1f} "
        f"(folds {min(held):.1f}-{max(held):.1f}) against plain {statistics.fmean(base):.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", required=True, help="NAME=LIBRARY:GROUND_TRUTH:VIDEOS")
    ap.add_argument("--grid", action="append", default=[], help="KEY=v1,v2,... (beta, or calibrate.FIELD)")
    ap.add_argument("--ablate", action="store_true")
    ap.add_argument("--templates", action="store_true", help="compare query prompt templates")
    ap.add_argument("--only-ablations", default="", help="comma-separated names' prefixes to run (default all)")
    ap.add_argument("--base", default="{}", help="JSON config the grid starts from, e.g. '{\"bank\": true}'")
    args = ap.parse_args()
    sets = []
    for spec in args.set:
        name, rest = spec.split("=", 1)
        lib, gt, videos = rest.split(":")
        sets.append(EvalSet(name, Service(lib), evaluate.load_ground_truth(gt), os.path.abspath(videos)))
    folds = folds_of(sets)
    print(f"{len(folds)} folds: " + ", ".join(f"{f} ({len(q)})" for f, q in folds.items()))
    print(f"{'':34s} per set: " + "/".join(METRICS))
    if args.ablate:
        wanted = [w for w in args.only_ablations.split(",") if w]
        for name, cfg in ABLATIONS.items():
            if not wanted or any(name.startswith(w) for w in wanted):
                print(table_row(name, run(sets, cfg), folds), flush=True)
    if args.templates:
        compare_templates(sets)
    for g in args.grid:
        key, vals = g.split("=", 1)
        values = [float(v) for v in vals.split(",")]

        def setter(cfg: dict, v: float, key: str = key) -> dict:
            if key.startswith(("calibrate.", "moments.")):
                group, name = key.split(".", 1)
                cfg[group] = {**cfg.get(group, {}), name: v}
            else:
                cfg[key] = v
            return cfg

        loo_choice(sets, key, values, json.loads(args.base), setter)


WITHIN = {"shot_cut": 0.7, "local_drop": 0.5, "min_contrast": 0.03}
GATED = {"temperature": 0.05, "quoted_visual": 0.5}  # the gating as measured (off by default)
OFF = {"temperature": float("inf"), "quoted_visual": 1.0}
ABLATIONS: dict[str, dict[str, object]] = {
    "raw cosine (no bank, no gating)": {"bank": False, **OFF},
    "querybank normalisation (DIS)": {"bank": True, **OFF},
    "gating alone (raw cosines)": {"bank": False, **GATED},
    "querybank + gating": {"bank": True, **GATED},
    "within-shot spans alone": {"bank": False, **OFF, "moments": WITHIN},
    "querybank + within-shot": {"bank": True, **OFF, "moments": WITHIN},
}

if __name__ == "__main__":
    main()
