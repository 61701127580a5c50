"""`sedge compress MODEL --method structured|rf|tucker|tt [settings] -o OUT`: compress a dense model."""
from sedge.cli import command

FINE_TUNE = ("this is a starting point: the closed-form fit loses accuracy that only fine-tuning recovers "
             "(write a .pt to get a trainable module)")


@command("compress", help="convert a dense zoo model's layers (projection / SVD / TT-SVD) and write the result")
def configure(p):
    from sedge.frontend.compress import METHODS

    p.add_argument("model", help="a dense zoo model, e.g. resnet18 or zoo:resnet18")
    p.add_argument("--method", required=True, choices=sorted(METHODS))
    p.add_argument("--checkpoint", help="the trained weights (a state dict .pt); default: seeded random")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n", type=int, default=2, help="structured: kernel size n of k x k convs (default 2)")
    p.add_argument("--c-ratio", type=float, default=1.0, help="structured: c / C (default 1.0)")
    p.add_argument("--s", type=float, default=0.5, help="rf / tucker / tt: rank factor s in (0, 1] (default 0.5)")
    p.add_argument("-o", "--output", required=True, help="a .onnx, .pt2 or .pt (whole module) path")


def drive(args):
    from sedge.frontend.compress import compress_zoo_model

    settings = {"n": args.n, "c_ratio": args.c_ratio} if args.method == "structured" else {"s": args.s}
    name = args.model.split(":", 1)[1] if args.model.startswith("zoo:") else args.model
    report = compress_zoo_model(name, args.method, settings, args.output, args.seed, args.checkpoint)
    print(f"{'layer':<32} {'now':<18} {'params before':>14} {'after':>12} {'reduction':>10} {'rel. error':>11}")
    for row in report:
        print(f"{row.name:<32} {row.replaced_by:<18} {row.params_before:>14,} {row.params_after:>12,} "
              f"{row.params_before / row.params_after:>9.2f}x {row.relative_error:>11.4f}")
    before, after = sum(r.params_before for r in report), sum(r.params_after for r in report)
    print(f"{len(report)} layers: {before:,} -> {after:,} parameters ({before / after:.2f}x); wrote {args.output}")
    print(FINE_TUNE)
