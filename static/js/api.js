// Talking to Lockstep's JSON API from a page: the CSRF header on every
// request, and failures turned into results (never exceptions) with a
// message a learner can act on.

/** The page's CSRF token (from `<meta name="csrf-token">`). */
export function csrfToken() {
  var meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/**
 * A JSON request with the CSRF header; resolves (never rejects) with
 * `{status, ok, data, retryAfter}`, status 0 when the server was unreachable.
 */
export function api(method, url, body) {
  var init = {
    method: method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(url, init).then(
    function (response) {
      return response
        .json()
        .catch(function () { return null; })
        .then(function (data) {
          return {
            status: response.status,
            ok: response.ok,
            data: data,
            retryAfter: response.headers.get("Retry-After"),
          };
        });
    },
    function () {
      return { status: 0, ok: false, data: null, retryAfter: null };
    }
  );
}

/** What to tell the learner about a failed `api` result. */
export function errorMessage(result) {
  if (result.status === 0) return "The server could not be reached. Check your connection and try again.";
  if (result.status === 429) {
    return "You are running code too often; try again in " + (result.retryAfter || "a few") + " s.";
  }
  if (result.status === 401) return "Your session has ended: sign in again (your draft is saved).";
  return (result.data && result.data.error) || "Something went wrong (HTTP " + result.status + ").";
}
