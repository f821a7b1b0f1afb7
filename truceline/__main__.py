"""``python -m truceline``: the same as the ``truceline`` command."""

from .cli import main

if __name__ == "__main__":
    main()
