"""Stand-in for get-pip.py, which ansible-test downloads from ci-files.testing.ansible.com.

That host is unreachable here (only PyPI is), so tests/sanity/run.sh puts this file where
ansible-test caches the script (~/.ansible/test/cache/get_pip_<version>.py) next to the pip wheel
of that version, downloaded from PyPI. Like get-pip.py it runs pip from the wheel to install pip
(and the packages named) into the interpreter running it: a fresh sanity-test virtualenv.
"""

import glob
import os
import sys


def main():
    """Install pip and the given packages into sys.executable's environment, as get-pip.py does."""
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    version = next(arg.split("==", 1)[1] for arg in args if arg.startswith("pip=="))
    wheels = glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), f"pip-{version}-*.whl"))
    if not wheels:
        sys.exit(f"no pip {version} wheel next to {__file__}: run tests/sanity/run.sh")
    sys.path.insert(0, wheels[0])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    sys.exit(pip_main(["install", "--upgrade", "--force-reinstall", *args]))


if __name__ == "__main__":
    main()
