# Installs what Sluice needs, when it is missing: Debian packages through apt-get (as root), non-interactively.
# Usage: ensure_packages COMMAND:PACKAGE ...   e.g. ensure_packages ffmpeg:ffmpeg chromium:chromium
# A package that brings no command (a GStreamer plugin set) is written with an empty command, :PACKAGE, and is
# installed when dpkg does not list it as installed.

ensure_packages() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    if [ -z "$cmd" ]; then
      [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
    else
      command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "sluice: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
  echo "sluice: installing ${missing[*]} ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 && return 0
  echo "sluice: the .NET SDK 10 is needed (dotnet on PATH)." >&2
  return 1
}
