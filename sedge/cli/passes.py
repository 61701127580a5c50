"""`sedge passes list [--target T]`: the pipeline recipe, phase by phase, in run order."""
from sedge.cli import command


@command("passes", help="list the compiler's passes: each phase of the pipeline, in run order")
def configure(p):
    p.add_argument("action", choices=["list"], help="list: print the recipe")
    p.add_argument("--target", help="the target the recipe is for (default: this machine's CPU); "
                                    "GPU targets have other layout and schedule passes")


def drive(args):
    import tvm

    from sedge.tvm_passes.pass_names import recipe_table
    from sedge.tvm_passes.target import parse_target

    target = tvm.target.Target(parse_target(args.target))
    rows = recipe_table(target)
    width = max(len(name) for _, name, _ in rows)
    phase_seen = None
    for phase, name, summary in rows:
        if phase != phase_seen:
            print(f"{'' if phase_seen is None else chr(10)}{phase}:")
            phase_seen = phase
        print(f"  {name:<{width}}  {summary}")
