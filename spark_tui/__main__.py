"""`spark-tui` and `python -m spark_tui`."""

import sys

from spark_tui.cli import main as _main


def main() -> None:
    sys.exit(_main())


if __name__ == "__main__":
    main()
