"""Start the studio in the browser, or a public demo of one trained run.

    python launch.py [--host H] [--port P] [--runs-dir D] [--share --auth USER:PASS]
    python launch.py demo RUN_DIR [--share] [--port P]

A thin wrapper for a checkout: the same as `studio serve ...` and `studio demo ...` of the installed package
(or `python -m studio serve ...`).
"""
import sys

from studio.__main__ import web


def main(argv: list[str]) -> int:
    if argv and argv[0] == "demo":
        return web("demo", argv[1:])
    return web("serve", argv[1:] if argv[:1] == ["serve"] else argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
