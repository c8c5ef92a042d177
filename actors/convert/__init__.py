"""`zeroctl convert supervisord.conf [-o DIR]`: supervisord's configuration as zeroinit
service descriptions (docs/convert.md is the manual).

This package is offline and stands alone: zeroctl imports it only for `convert`, and neither
the root nor the watchers ever do. `add_arguments` and `main` are all zeroctl needs;
supervisord_conf.py reads the input, programs.py maps one program, convert.py the whole file,
dinit_text.py writes the text.
"""

from __future__ import annotations

import argparse

DEFAULT_OUTPUT = "zeroinit.d"
HELP = "supervisord.conf to service files"


EPILOG = ("Writes one service file per [program:x] (numprocs > 1: a pool, instances = N), an "
          "internal service per [group:x], and boot, which waits for every autostarted "
          "program. Each setting that cannot be converted as it is gets one line on stderr: "
          "FILE:LINE: [SECTION] KEY: why. Exit status: 0 written, 1 the input could not be "
          "read or converted (nothing is written), 2 bad usage. See docs/convert.md.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("file", metavar="FILE", help="the supervisord.conf to read (its "
                        "[include] files are read too)")
    parser.add_argument("-o", "--output", metavar="DIR", default=DEFAULT_OUTPUT,
                        help=f"the services directory to write (default: ./{DEFAULT_OUTPUT}; "
                        "files of the same name are replaced, nothing else is touched)")


def main(args: argparse.Namespace) -> int:
    """Convert, write, report; 0 done (what was not converted is listed on stderr), 1 the
    input could not be read or converted, or the output could not be written."""
    import os
    import sys

    from actors.convert.convert import convert, write
    from actors.convert.supervisord_conf import ConfError
    try:
        result = convert(args.file, os.environ)
        write(result.files, args.output)
    except ConfError as exc:
        print(f"zeroctl: convert: {exc}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(note, file=sys.stderr)
    if getattr(args, "json", False):
        import json
        print(json.dumps({"output": args.output, "services": result.services,
                          "not_converted": [str(n) for n in result.notes]}, indent=2))
        return 0
    noted = len(result.notes)
    print(f"{len(result.services)} services written to {args.output}"
          + (f"; {noted} line{'s' if noted != 1 else ''} on stderr say what was not converted "
             "as it was." if noted else "."))
    return 0
