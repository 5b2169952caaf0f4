"""`python -m stepfold`: the same command line as the `stepfold` script."""

from stepfold.cli import console

if __name__ == "__main__":
    console()
