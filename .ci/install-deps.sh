#!/usr/bin/env bash
# Installs the reference tools the tests compare against, from Debian's
# packages: scikit-learn and pandas for /usr/bin/python3.
set -euo pipefail

if /usr/bin/python3 -c 'import sklearn, pandas' 2>/dev/null; then
  echo "python3-sklearn and python3-pandas are already installed"
else
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends python3-sklearn python3-pandas >/dev/null
  /usr/bin/python3 -c 'import sklearn; print("scikit-learn", sklearn.__version__)'
fi
