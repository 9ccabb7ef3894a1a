"""``socialtwin fit``: estimate a scenario's mechanism on the training weeks; a parameter file."""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

from socialtwin.flags import add_flags, note_unrecognised


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``fit`` command to the ``socialtwin`` parser."""
    from calibration.mechanism_fit import FIT_AGENTS, MAX_ITERATIONS

    fit = commands.add_parser(
        "fit", help="estimate the engine's and the dynamics' parameters on the training weeks "
                    "(2020) of a set of regions; writes a parameter file for engine.parameters")
    add_flags(fit, "scenario", "regions", "engine", "data_dir", "protocol_seed", "out",
              "overwrite", "json", "quiet", "objective", "pooling",
              engine="the engine whose parameters are fitted (default: rules, whatever the "
                     "scenario names); for local or litellm:<model>, how its persona answers "
                     "are combined (contrast weights, logit scale) and the dynamics, never the "
                     "model",
              out="parameter file to write (default: parameters/<scenario name>.json); an "
                  "existing file must be a parameter file of socialtwin",
              overwrite="replace an existing --out file that is not a parameter file")
    fit.add_argument("--trials", type=int, default=MAX_ITERATIONS,
                     help="at most this many quasi-Newton (L-BFGS-B) iterations, each one "
                          f"gradient of the objective (default: {MAX_ITERATIONS})")
    fit.add_argument("--restarts", type=int, default=0,
                     help="further fits from starts drawn from the priors, whose values show the "
                          "spread across restarts (default: 0)")
    fit.add_argument("--agents", type=int, default=FIT_AGENTS,
                     help=f"agents per region of the fast evaluation (default: {FIT_AGENTS})")
    fit.set_defaults(handler=fit_command)


def fit_command(args: argparse.Namespace) -> int:
    """Fit, write the parameter file and print its table; the exit status."""
    from calibration.language_fit import fit_language_scenario
    from calibration.mechanism_fit import fit_scenario
    from simulator.errors import UsageError
    from simulator.fitted_parameters import FittedParameters, ParameterFileError
    from simulator.run import apply_overrides
    from simulator.run_folder import check_file, out_option, replace_file
    from simulator.scenario import load_scenario

    for flag in ("trials", "agents"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag}: {getattr(args, flag)} (allowed: 1 or more)")
    if args.restarts < 0:
        raise UsageError(f"--restarts: {args.restarts} (allowed: 0 or more)")
    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine or "rules",
                               data_dir=args.data_dir)
    target = Path(out_option(args.out) or Path("parameters") / f"{scenario.name}.json")

    def is_parameter_file(path: Path) -> bool:
        try:
            FittedParameters.load(path)
        except ParameterFileError:
            return False
        return True

    check_file(target, "--out", args.overwrite, is_parameter_file, "parameter file")
    note_unrecognised(args.data_dir)
    # rules: its behaviour model; a language engine: what its answers are combined with (on the
    # training weeks, pooled: the events and regions' own values are the rules fit's)
    fit = fit_language_scenario
    if scenario.engine.name == "rules":
        fit = partial(fit_scenario, events=args.objective == "weeks+events",
                      pooling=args.pooling == "regions")
    elif args.pooling != "none":
        raise UsageError(f"--pooling {args.pooling}: only for the rules engine (the "
                         f"{scenario.engine.name} engine's combination is fitted pooled)")
    fitted = fit(scenario, args.regions, args.data_dir, args.agents, args.seed, args.trials,
                 args.restarts, progress=not (args.quiet or args.json))
    replace_file(target, fitted.save)
    if args.json:
        print(json.dumps({"file": str(target), **fitted.to_dict()}))
    else:
        print(fit_text(fitted, target))
    return 0


def fit_text(fitted, target: Path) -> str:
    """The printed summary: what the fit did, then every parameter beside its prior."""
    from simulator.fitted_parameters import parameters_table

    fit = fitted.fit
    optimiser = fit["optimiser"]
    pinned = sum(1 for v in fitted.values if v.identified)
    asked = fit.get("asked")
    lines = [
        f"Fitted {len(fitted.values)} parameters of the {fitted.engine} engine on "
        f"{len(fit['regions'])} regions' training weeks ({fit['training_rows']:,} region-weeks),"
        f" {fit['evaluation']}",
        f"training macro RMSE (calibrated, fast evaluation): prior "
        f"{fit['train_macro_rmse']['prior']:.2f} -> fitted {fit['train_macro_rmse']['fitted']:.2f}"
        f" pp; {optimiser['iterations']} iterations, {optimiser['evaluations']:,} evaluations, "
        f"{'converged' if optimiser['converged'] else 'stopped: ' + optimiser['message']}; "
        f"{fit['wall_s']:.0f} s",
        *([f"persona answers asked as a run asks them: {asked['persona_answers']:,} answers, "
           f"{asked['llm_calls']:,} LLM calls, {asked['cache_hits']:,} cache hits, "
           f"{asked['failed_answers']} failed; {asked['wall_s']:.0f} s"] if asked else []),
        *_events_line(fit),
        f"{pinned} of {len(fitted.values)} parameters pinned down by the data (contraction >= "
        f"{fit['identified_from_contraction']})",
        "",
        *parameters_table(fitted),
        "",
        f"wrote {target}; use it with `engine: {{parameters: {target}}}` in a scenario",
    ]
    return "\n".join(lines)


def _events_line(fit: dict) -> list[str]:
    """The events' part of the objective, prior and fitted (none when the fit had none)."""
    events, mae, r = fit.get("training_events"), fit.get("events_mae"), fit.get("events_pearson")
    if not events or not mae or mae.get("prior") is None:
        return []
    return [f"training events ({events['scored']} events, {events['event_categories']} event-"
            f"categories): MAE prior {mae['prior']:.2f} -> fitted {mae['fitted']:.2f} pp, "
            f"correlation with the observed effects {r['prior']:.2f} -> {r['fitted']:.2f}"]
