# Shared by scripts/demo and scripts/test: find Python >= 3.12 and prepare .venv.
# Django 6 needs Python 3.12 or newer; pyenv installations are found too.

ZB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

zb_python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

zb_find_python() {
  if [ -n "${ZICHTBAAR_PYTHON:-}" ] && zb_python_ok "$ZICHTBAAR_PYTHON"; then echo "$ZICHTBAAR_PYTHON"; return; fi
  for candidate in python3.14 python3.13 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && zb_python_ok "$candidate"; then echo "$candidate"; return; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local root; root="$(pyenv root)"
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -rV); do
      if zb_python_ok "$root/versions/$version/bin/python"; then echo "$root/versions/$version/bin/python"; return; fi
    done
  fi
  echo "zichtbaar needs Python 3.12 or newer (Django 6); none was found." >&2
  return 1
}

zb_venv() {
  # zb_venv EXTRAS: create .venv when missing and install the project (editable) into it.
  local extras="${1:-}"
  if [ ! -x "$ZB_ROOT/.venv/bin/python" ] || ! zb_python_ok "$ZB_ROOT/.venv/bin/python"; then
    local python; python="$(zb_find_python)" || exit 1
    echo "Creating .venv with $("$python" --version)"
    rm -rf "$ZB_ROOT/.venv"
    "$python" -m venv "$ZB_ROOT/.venv"
    "$ZB_ROOT/.venv/bin/python" -m pip install --quiet --upgrade pip
  fi
  echo "Installing zichtbaar${extras:+[$extras]} into .venv"
  "$ZB_ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -e "$ZB_ROOT${extras:+[$extras]}" 2>&1 | grep -v "is ignored: it is neither" || true
  "$ZB_ROOT/.venv/bin/python" -c "import zichtbaar" || { echo "Installation failed." >&2; exit 1; }
}
