// The single-page app: hash routes, the navigation for the user's role, and auto-refresh.

import { ApiError, hasRoute } from "./api.js";
import { h, replace } from "./dom.js";
import { problemBox } from "./problem.js";
import { currentUser, signOut } from "./session.js";
import { loginPage } from "./pages/login.js";
import { reservesPage } from "./pages/reserves.js";
import { reportPage } from "./pages/report.js";
import { historyPage } from "./pages/history.js";
import { requestsPage } from "./pages/requests.js";
import { requestPage } from "./pages/request.js";
import { newRequestPage } from "./pages/new_request.js";
import { marketPage } from "./pages/market.js";
import { corporateActionsPage } from "./pages/corporate_actions.js";
import { portfolioPage } from "./pages/portfolio.js";
import { exchangePage } from "./pages/exchange.js";
import { lendingPage, lendingPositionsPage } from "./pages/lending.js";
import { cfdPage, perpsPage, synthsPage } from "./pages/derivatives.js";
import { bridgePage } from "./pages/bridge.js";
import { ordersPage } from "./pages/orders.js";
import { simulationPage } from "./pages/simulation.js";
import { privatePage } from "./pages/private.js";

// Most specific first; `:name` captures one path segment.
const ROUTES = [
  ["/login", loginPage],
  ["/reserves/history", historyPage],
  ["/reserves/:ticker/report", reportPage],
  ["/reserves", reservesPage],
  ["/requests/new", newRequestPage],
  ["/requests/:id", requestPage],
  ["/requests", requestsPage],
  ["/market", marketPage],
  ["/corporate-actions", corporateActionsPage],
  ["/portfolio", portfolioPage],
  ["/exchange", exchangePage],
  ["/lending/positions", lendingPositionsPage],
  ["/lending", lendingPage],
  ["/perps", perpsPage],
  ["/synths", synthsPage],
  ["/cfd", cfdPage],
  ["/bridge", bridgePage],
  ["/orders", ordersPage],
  ["/private", privatePage],
  ["/simulation", simulationPage],
];

// The menu, in reading order; each page says which roles see it, and a page that needs a part of the
// platform not every run has (`requires`: one of its API routes) is listed only when the API serves it.
const NAV = ["/portfolio", "/reserves", "/reserves/history", "/requests", "/requests/new", "/orders", "/exchange", "/lending", "/lending/positions", "/perps", "/synths", "/cfd", "/bridge", "/private", "/market", "/corporate-actions", "/simulation"];

const HOME = { operator: "/reserves", participant: "/portfolio", investor: "/portfolio" };

const main = document.getElementById("main");
let generation = 0; // bumped on every navigation, so a late refresh of a page left behind is dropped
let timer = null;

function parseHash() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
  const [path, queryText = ""] = raw.split("?");
  return { path, query: Object.fromEntries(new URLSearchParams(queryText)) };
}

function match(path) {
  const segments = path.split("/").filter(Boolean);
  for (const [pattern, page] of ROUTES) {
    const parts = pattern.split("/").filter(Boolean);
    if (parts.length !== segments.length) continue;
    const params = {};
    if (parts.every((part, i) => (part.startsWith(":") ? (params[part.slice(1)] = segments[i]) : part === segments[i]))) {
      return { page, params };
    }
  }
  return null;
}

/** Go to a route ("/requests/req-1"), optionally with a query object. */
export function navigate(path, query = {}) {
  const text = new URLSearchParams(query).toString();
  location.hash = text ? `${path}?${text}` : path;
}

async function renderChrome(user) {
  const nav = document.getElementById("nav");
  const session = document.getElementById("session");
  if (!user) {
    replace(nav);
    replace(session);
    return;
  }
  const current = parseHash().path;
  const pages = new Map(ROUTES);
  const allowed = NAV.map((pattern) => ({ pattern, page: pages.get(pattern) })).filter(({ page }) => page.roles.includes(user.role));
  const served = await Promise.all(allowed.map(({ page }) => !page.requires || hasRoute(page.requires)));
  const links = allowed.filter((_, i) => served[i]);
  replace(
    nav,
    h(
      "ul",
      {},
      links.map(({ pattern, page }) =>
        h(
          "li",
          {},
          h("a", { href: `#${pattern}`, "aria-current": current === pattern ? "page" : null }, page.nav),
        ),
      ),
    ),
  );
  replace(
    session,
    h("span", { class: "who" }, user.name ?? user.investor_id ?? "operator", " ", h("span", { class: "role" }, user.role)),
    h("button", { type: "button", class: "secondary", onclick: logout }, "Log out"),
  );
}

function logout() {
  signOut();
  navigate("/login");
}

async function route() {
  const mine = ++generation;
  clearTimeout(timer);
  const { path, query } = parseHash();
  const user = currentUser();
  if (!user && path !== "/login") return navigate("/login");
  if (user && (path === "/" || path === "/login")) return navigate(HOME[user.role] ?? "/portfolio");
  await renderChrome(user);
  if (mine !== generation) return;
  const found = match(path);
  if (!found) {
    replace(main, h("h1", {}, "Page not found"), h("p", {}, "There is no page at ", h("code", {}, path), "."));
    return;
  }
  const { page, params } = found;
  if (user && !page.roles.includes(user.role)) {
    replace(main, h("h1", {}, page.title), problemBox({ title: "Not available", detail: `The ${page.title} page is not for the ${user.role} role.` }));
    return;
  }
  document.title = `${page.title} · Equitoken`;
  const alerts = h("div", { class: "alerts" });
  const updated = h("p", { class: "updated", "aria-live": "off" });
  delete main.dataset.loaded;
  const view = page.mount({ user, params, query, navigate });
  replace(main, alerts, view.node, page.refreshMs ? updated : null);
  main.dataset.page = page.id;
  main.focus({ preventScroll: true });
  await refresh(mine, page, view, alerts, updated);
}

async function refresh(mine, page, view, alerts, updated) {
  if (view.update) {
    try {
      await view.update();
      if (mine !== generation) return;
      replace(alerts);
      replace(updated, "Updated ", new Date().toISOString().slice(11, 19), " UTC");
      main.dataset.loaded = "true";
    } catch (error) {
      if (mine !== generation) return;
      if (error instanceof ApiError && error.status === 401 && currentUser()) {
        signOut();
        return navigate("/login");
      }
      replace(alerts, problemBox(error));
    }
  }
  if (page.refreshMs && mine === generation) {
    timer = setTimeout(() => refresh(mine, page, view, alerts, updated), page.refreshMs);
  }
}

window.addEventListener("hashchange", route);
route();
