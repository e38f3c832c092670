/** Which requests are answered with a stream, read from the target as kube-apiserver reads it. */

/** Path and query of a request target, without the cost of a full URL parse on every request. */
export function splitTarget(
  target: string,
): { pathname: string; search: string; searchParams: URLSearchParams } {
  const question = target.indexOf("?");
  const pathname = question < 0 ? target : target.slice(0, question);
  const search = question < 0 ? "" : target.slice(question);
  return {
    pathname,
    search,
    get searchParams() {
      return new URLSearchParams(search);
    },
  };
}

/**
 * True for requests whose answer is a stream (watch, logs -f): its headers go out at once. The
 * flags are read as kube-apiserver reads them (`watch=True`, `watch=t`, a bare `watch`...).
 */
export function isStreamingTarget(target: string): boolean {
  const { pathname, searchParams } = splitTarget(target);
  return queryFlag(searchParams, "watch") === true || queryFlag(searchParams, "follow") === true ||
    /^\/api(s\/[^/]+)?\/[^/]+\/watch\//.test(pathname);
}

/**
 * A boolean query parameter (watch, allowWatchBookmarks, sendInitialEvents, follow...) read as
 * kube-apiserver reads it: undefined when absent; false when its first value is "0" or "false"
 * compared as Go's strings.EqualFold does; true for any other value, the empty one included
 * (apimachinery pkg/runtime/conversion.go, Convert_Slice_string_To_bool: not strconv.ParseBool,
 * so `?watch`, `?watch=True` and `?watch=yes` all watch).
 */
export function queryFlag(params: URLSearchParams, name: string): boolean | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  return !(value === "0" || equalsFalseFolded(value));
}

/** strings.EqualFold(value, "false"): ASCII case folding, and U+017F (long s) folds to "s". */
function equalsFalseFolded(value: string): boolean {
  const letters = [...value];
  if (letters.length !== 5) return false;
  return letters.every((letter, i) => {
    const folded = letter === "\u017f"
      ? "s"
      : letter.length === 1 && letter < "\x80"
      ? letter.toLowerCase()
      : letter;
    return folded === "false"[i];
  });
}
