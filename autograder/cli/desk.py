"""``dlbasics desk``: grade written answers in the browser (by question, rubric items, groups)."""

from __future__ import annotations

from autograder.cli.common import course_of, fail, gradebook_path, seed_of, where_options

NAME = "desk"
HELP = "grade written answers in the browser (by question, rubric items, groups)"


def arguments(parser) -> None:
    parser.add_argument("assignment")
    where_options(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                        "only; anything else lets others on the network reach the desk, token permitting)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one, printed)")


def run(args) -> int:
    """Serve the instructor's desk (hand grading in the browser) until Ctrl-C."""
    import socket

    from autograder.checks import get_assignment
    from autograder.desk.app import open_desk, report_command, serve
    from autograder.report.manual_scores import where_list

    assignment = get_assignment(args.assignment)
    course = course_of(args)
    path = gradebook_path(args, course, assignment)
    where = where_list(args)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
        # Listening before the address is printed: a browser opened at once waits in the backlog
        # (128: the usual default) until the server is up, instead of being refused.
        sock.listen(128)
    except OSError as error:
        return fail(f"cannot listen on {args.host}:{args.port} ({error}): choose another --port")
    port = sock.getsockname()[1]
    seed = seed_of(course, path.parent)
    desk = open_desk(assignment, path, seed, report_command(assignment.id, where), args.host, port)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"the desk for {assignment.id} is at http://{host}:{port}/?token={desk.token}\n"
          "(open it in your browser; the token is your key: do not share it) Ctrl-C stops it; every saved score "
          "is in the gradebook already", flush=True)
    try:
        serve(desk, sock)
    finally:
        desk.gradebook.close()
    return 0
