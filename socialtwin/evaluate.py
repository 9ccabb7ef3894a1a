"""``socialtwin evaluate``: the evaluation protocols, the time split and the policy events."""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext

from calibration.protocol import TEST_WINDOW, window_text
from socialtwin.flags import add_flags, note_unrecognised


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` command to the ``socialtwin`` parser."""
    evaluate = commands.add_parser(
        "evaluate", help="the evaluation protocols: calibrate on 2020 and test on Jan-Apr 2021, "
                         "or score counterfactual effects against real policy changes")
    add_flags(evaluate, "case_study")
    evaluate.add_argument("--protocol", choices=("time", "events"), default="time",
                          help="time: calibrate on 2020, test on Jan-Apr 2021 (default); "
                               "events: the twin's counterfactual effects against the observed "
                               "effects of real policy changes, out of sample by region")
    add_flags(evaluate, "engine", "regions", "data_dir", "agents_per_region", "protocol_seed",
              "cache", "out", "overwrite", "json",
              engine="local, rules or litellm:<model> (overrides the scenario's)",
              out="folder for tables, predictions and plots",
              json="print one JSON object (time: macro RMSE per method, improvement, "
                   "per-region table; events: n_events, placebo_noise, figures per method)")
    evaluate.add_argument("--fit", action="store_true",
                          help="fit the rules mechanism on training weeks first (socialtwin fit) "
                               "and evaluate the fitted twin: time, on the regions' 2020 weeks; "
                               "events, once per fold on the other folds' regions")
    evaluate.add_argument("--trials", type=int,
                          help="with --fit: at most this many L-BFGS-B iterations")
    add_flags(evaluate, "objective", "pooling",
              objective="with --fit: what the fit matches, the training weeks and the policy "
                        "events inside them (weeks+events, the default) or the weeks alone",
              pooling="with --fit: partial pooling by region (regions) or none (the default)")
    evaluate.set_defaults(handler=evaluate_command)


def evaluate_command(args: argparse.Namespace) -> int:
    """Run the chosen protocol, print its figures and write its files; the exit status."""
    from simulator.run import apply_overrides, check_cache
    from simulator.run_folder import RunFolder, out_option
    from simulator.scenario import load_scenario

    out = out_option(args.out)
    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine)
    _check_fit_flags(args, scenario)
    run, writes, write, text = _protocol(args.protocol)
    with nullcontext() if out is None else RunFolder(out, writes, args.overwrite) as folder:
        check_cache(scenario, args.cache)
        note_unrecognised(args.data_dir)
        evaluation = run(scenario, regions=args.regions, data_dir=args.data_dir,
                         agents=args.agents, seed=args.seed, cache_path=args.cache,
                         progress=not args.json, fit=args.fit, trials=args.trials,
                         fit_events=args.objective == "weeks+events",
                         fit_pooling=args.pooling == "regions")
        if folder is not None:
            write(evaluation, folder)
    print(json.dumps(evaluation.to_json()) if args.json else text(evaluation))
    return 0


def _protocol(name: str):
    """The protocol's function, the files it writes, its writer and its printed summary."""
    if name == "events":
        from calibration.event_protocol import evaluate_events
        from calibration.event_report import EVENT_FILES, event_text, write_event_outputs

        return evaluate_events, EVENT_FILES, write_event_outputs, event_text
    from calibration.evaluate import evaluate
    from calibration.evaluation_report import EVALUATION_FILES, write_evaluation_outputs

    return evaluate, EVALUATION_FILES, write_evaluation_outputs, _time_split_text


def _check_fit_flags(args: argparse.Namespace, scenario) -> None:
    """Refuse, before any work, fit flags the command cannot honour."""
    from calibration.mechanism_fit import check_fittable
    from simulator.errors import UsageError

    if args.trials is not None and not args.fit:
        raise UsageError("--trials: only with --fit")
    if args.objective != "weeks+events" and not args.fit:
        raise UsageError("--objective: only with --fit")
    if args.pooling != "none" and not args.fit:
        raise UsageError("--pooling: only with --fit")
    if args.trials is not None and args.trials < 1:
        raise UsageError(f"--trials: {args.trials} (allowed: 1 or more)")
    if args.fit:
        check_fittable(scenario)


def _time_split_text(evaluation) -> str:
    """The time split's printed summary: the pooled table, the spread, what was left out."""
    table = evaluation.table.copy()
    table.columns = [c.replace("_and_", "&").replace("_", " ") for c in table.columns]
    tested = evaluation.by_region["region"].nunique()
    summary = evaluation.to_json()
    lines = [f"Test RMSE (percentage points), {window_text(TEST_WINDOW)} weeks, pooled over "
             f"{len(evaluation.regions)} regions ({tested} with test weeks), engine "
             f"{evaluation.engine}",
             table.round(2).to_string(),
             f"twin vs gradient boosting: {summary['improvement_vs_gbm_pct']:+.1f}%; vs "
             f"persistence: {summary['improvement_vs_persistence_pct']:+.1f}% (positive = "
             "lower error)"]
    if len(evaluation.regions) > 1:
        lines.append(_spread(evaluation))
    lines += [f"left out: {code} ({why})" for code, why in evaluation.excluded.items()]
    lines += [f"missing inputs: {'; '.join(notes)}"
              for notes in evaluation.simulation.get("missing_inputs", {}).values()]
    lines += [f"note: {note}" for note in evaluation.notes]
    if evaluation.parameters is not None:
        fit = evaluation.parameters.fit
        lines.append(f"fitted parameters (training weeks only): training macro RMSE of the fast "
                     f"evaluation {fit['train_macro_rmse']['prior']:.2f} at the priors -> "
                     f"{fit['train_macro_rmse']['fitted']:.2f}; {fit['wall_s']:.0f} s")
    return "\n".join(lines)


def _spread(evaluation) -> str:
    """Per-region macro RMSE of each method: median and quartiles, and regions the twin wins."""
    macro = evaluation.by_region.pivot(index="region", columns="method", values="macro")
    twin = evaluation.twin.name
    lines = ["Per region (test macro RMSE): median [25th-75th percentile]"]
    for method in evaluation.table.index:
        low, middle, high = macro[method].quantile([0.25, 0.5, 0.75])
        lines.append(f"  {method:<18} {middle:6.2f} [{low:.2f}-{high:.2f}]")
    for baseline in ("persistence", "gbm"):
        wins = int((macro[twin] < macro[baseline]).sum())
        lines.append(f"twin below {baseline} in {wins} of {len(macro)} regions")
    return "\n".join(lines)
