// Calls to the REST API under /api/v1, with the session's key; errors become ApiError.

import { apiKey } from "./session.js";

const BASE = "/api/v1";

/** A refused call: the API's problem+json (`title`, `detail`, `code`) or a network failure. */
export class ApiError extends Error {
  constructor({ status, title, detail, code, retryAfter }) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * Call the API and return its JSON body.
 * `body` is sent as JSON; `idempotencyKey` goes in the Idempotency-Key header; `key` overrides the
 * session's API key (used by the login form before the key is kept).
 */
export async function call(path, { method = "GET", body, idempotencyKey, key = apiKey(), query } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (key) headers["X-API-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(BASE + path + queryString(query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError({ status: 0, title: "The API cannot be reached", detail: String(error.message ?? error) });
  }
  const text = await response.text();
  const data = text ? parseJson(text) : null;
  if (!response.ok) throw problem(response, data, text);
  return data;
}

/** Fetch every page of a paginated list (`items` and `next_cursor`), up to `maxItems`. */
export async function listAll(path, { query = {}, maxItems = 1000 } = {}) {
  const items = [];
  let cursor = null;
  do {
    const page = await call(path, { query: { ...query, limit: 200, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < maxItems);
  return items;
}

let openApi = null;

/** Whether the API serves `path` (as written in its OpenAPI document, "/reserves/{ticker}/report"). */
export async function hasRoute(path) {
  openApi ??= fetch(`${BASE}/openapi.json`, { cache: "no-store" })
    .then((response) => (response.ok ? response.json() : { paths: {} }))
    .catch(() => {
      openApi = null;
      return { paths: {} };
    });
  const document = await openApi;
  return Object.hasOwn(document.paths ?? {}, BASE + path) || Object.hasOwn(document.paths ?? {}, path);
}

/** A fresh Idempotency-Key (random, 128 bits); works outside secure contexts too. */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "ui-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function problem(response, data, text) {
  const retryAfter = response.headers.get("Retry-After");
  if (data && typeof data === "object" && (data.title || data.detail)) {
    const detail = typeof data.detail === "string" ? data.detail : data.detail ? JSON.stringify(data.detail) : "";
    return new ApiError({ status: response.status, title: data.title, detail, code: data.code, retryAfter });
  }
  return new ApiError({
    status: response.status,
    title: response.statusText || `HTTP ${response.status}`,
    detail: text.slice(0, 300),
    retryAfter,
  });
}
