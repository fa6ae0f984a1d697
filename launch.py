"""Start the studio in the browser, or a public demo of one trained run.

    python launch.py [--host H] [--port P] [--runs-dir D] [--share --auth USER:PASS]
    python launch.py demo RUN_DIR [--share] [--port P]
"""
import os
import sys

# The studio works without a model hub: the default model ships inside a Python package.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "demo":
        from studio.ui.demo import main as demo_main
        return demo_main(argv[1:])
    from studio.ui.app import main as studio_main
    return studio_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
