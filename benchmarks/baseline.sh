# Sourced by run.sh and alternate.sh: the release at a git ref, exported into its own folder
# (never a worktree of this repository) and compiled once, run on the same interpreter.
#   baseline_folder REF PYTHON   -> prints the folder whose src/ holds that release
baseline_folder() {
  local ref=$1 python=$2 sha folder
  sha=$(git rev-parse --short=12 "$ref^{commit}")
  [ "$sha" = "$(git rev-parse --short=12 HEAD)" ] && echo "note: the baseline $ref is HEAD itself" >&2
  folder="$PWD/benchmarks/.baseline/$sha"
  if [ ! -f "$folder/.complete" ]; then
    rm -rf "$folder"
    mkdir -p "$folder"
    git archive "$sha" src pyproject.toml | tar -x -C "$folder"
    "$python" -m compileall -q "$folder/src"
    touch "$folder/.complete"
  fi
  if ! git diff --quiet "$sha" HEAD -- pyproject.toml; then
    echo "note: pyproject.toml differs from $ref; the baseline runs on this checkout's dependencies" >&2
  fi
  echo "baseline: $ref ($sha) from $folder" >&2
  echo "$folder"
}
