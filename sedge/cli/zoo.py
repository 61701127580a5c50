"""`sedge zoo list | info NAME [--json] | export NAME -o m.onnx|m.pt2`: the model zoo."""
import json

from sedge.cli import command


@command("zoo", help="the model zoo: list names, show a model's parameters / MACs / adds, export it")
def configure(p):
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    actions.add_parser("list", help="the published configurations (any valid name builds; "
                                          "see docs/compressed-layers.md)")
    info = actions.add_parser("info", help="parameters, MACs, adds and a per-layer table")
    info.add_argument("name")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    export = actions.add_parser("export", help="write the model as ONNX (sedge functions) or a torch.export .pt2")
    export.add_argument("name")
    export.add_argument("-o", "--output", required=True, help="a path ending in .onnx or .pt2")
    export.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    export.add_argument("--checkpoint", help="a state dict (.pt) to load instead of random weights")


def drive(args):
    from sedge.frontend.zoo import PUBLISHED

    if args.action == "list":
        print("\n".join(PUBLISHED))
    elif args.action == "info":
        from sedge.frontend.zoo.report import zoo_info

        info = zoo_info(args.name)
        print(json.dumps(info.to_dict(), indent=1) if args.json else info.table())
    else:
        from sedge.frontend.export import export_zoo_model

        path = export_zoo_model(args.name, args.output, seed=args.seed, checkpoint=args.checkpoint)
        print(f"wrote {path}")
