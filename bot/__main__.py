"""``python -m bot`` is ``vandra``."""

from bot.cli import main

if __name__ == "__main__":
    main()
