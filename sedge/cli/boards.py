"""`sedge boards list` / `sedge boards show NAME|FILE`: the board descriptions sedge knows."""
from sedge.cli import command


@command("boards", help="list the shipped board descriptions, or show one (a name or a .toml path)")
def configure(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    sub.add_parser("list", help="name and description of every shipped board")
    show = sub.add_parser("show", help="every figure of one board, after inherit and host detection")
    show.add_argument("name", help="a shipped board name or a path to a .toml board file")


def drive(args):
    from sedge.boards import list_boards, load_board
    from sedge.hw_models.energy import op_energy_pj

    if args.action == "list":
        for name in list_boards():
            print(f"{name:<24} {load_board(name).description}")
        return 0
    board = load_board(args.name)
    c = board.compute
    print(f"{board.name}: {board.description}")
    print(f"  kind {board.kind}, from {board.source}")
    print(f"  compute: {c.units} units at {c.clock_hz / 1e6:g} MHz, target '{c.target}', "
          f"{c.register_bytes:g} register bytes")
    for precision in c.macs_per_cycle:
        mult, add = op_energy_pj(board, precision)
        print(f"    {precision}: {c.macs_per_cycle[precision]:g} MACs and {c.adds_per_cycle[precision]:g} adds "
              f"per cycle per unit; {mult:.3g} pJ per multiply, {add:.3g} pJ per add")
    for level in board.sram + (board.dram,):
        kind = f" {level.type}" if level.type else ""
        print(f"  {level.name}{kind}: {level.size_bytes:,.0f} bytes, {level.bandwidth_gbps:g} GB/s, "
              f"read {level.read_pj_per_byte:g} / write {level.write_pj_per_byte:g} pJ per byte")
    print(f"  energy: node {board.node_nm:g} nm; transport: "
          + ", ".join(f"{k} {v}" for k, v in board.transport.items()))
    return 0
