"""`python -m asynccheck`: the same entry point as the console script."""

from asynccheck.cli import main

if __name__ == "__main__":
    main()
