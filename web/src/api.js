// The server's JSON API. Every call is a POST of one flat JSON object (or the
// session GET); an error answer carries one line in `error`. Every call carries
// the session's token, which `cnndsl serve` printed in the page's address
// (`?token=…`): without it the server answers nothing.

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const headers = (extra = {}) => ({ "X-Cnndsl-Token": TOKEN, ...extra });

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** POST `body` as JSON to `/api/<path>`; resolves to the answer, rejects with ApiError. */
export async function post(path, body, signal) {
  const response = await fetch(`/api/${path}`, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify(body),
    signal,
  });
  return answer(response);
}

/** The opened file, its digest and the examples. */
export async function session() {
  return answer(await fetch("/api/session", { headers: headers() }));
}

async function answer(response) {
  let data = null;
  try {
    data = await response.json();
  } catch {
    throw new ApiError(`the server answered ${response.status} without JSON`, response.status);
  }
  if (!response.ok) throw new ApiError(data.error || `error ${response.status}`, response.status);
  return data;
}
