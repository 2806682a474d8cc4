// The signed-in user: the API key they typed and who the API says they are, for this tab only.

const KEY = "equitoken.apiKey";
const ME = "equitoken.me";

/** The API key of this tab's session, or null. */
export function apiKey() {
  return sessionStorage.getItem(KEY);
}

/** The `/me` answer for this tab's session (`role`, `investor_id`, `name`), or null. */
export function currentUser() {
  const me = sessionStorage.getItem(ME);
  return me ? JSON.parse(me) : null;
}

/** Remember a key the API accepted, with the user it belongs to. */
export function signIn(key, me) {
  sessionStorage.setItem(KEY, key);
  sessionStorage.setItem(ME, JSON.stringify(me));
}

/** Forget the key. */
export function signOut() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ME);
}
