// Log in by pasting an API key; GET /me says whose it is and which role it has.

import { call } from "../api.js";
import { h, replace } from "../dom.js";
import { problemBox } from "../problem.js";
import { signIn } from "../session.js";

export const loginPage = {
  id: "login",
  title: "Log in",
  roles: [],
  mount({ navigate }) {
    const input = h("input", {
      id: "api-key",
      name: "api-key",
      type: "password",
      autocomplete: "off",
      spellcheck: "false",
      required: true,
    });
    const status = h("div", { class: "form-status" });
    const button = h("button", { type: "submit" }, "Log in");
    const form = h(
      "form",
      { class: "card narrow", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title" }, "Log in"),
      h(
        "p",
        {},
        "Paste your API key. ",
        h("code", {}, "equitoken up"),
        " prints one for the operator and for each dev investor.",
      ),
      h("label", { for: "api-key" }, "API key"),
      input,
      button,
      status,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const key = input.value.trim();
      button.disabled = true;
      replace(status, h("p", {}, "Checking the key…"));
      try {
        const me = await call("/me", { key });
        signIn(key, me);
        navigate("/");
      } catch (error) {
        const unauthorised = error.status === 401;
        replace(
          status,
          problemBox(
            unauthorised
              ? { ...error, title: "That API key was not accepted", detail: error.detail || "Check it and try again." }
              : error,
          ),
        );
        input.select();
      } finally {
        button.disabled = false;
      }
    });
    return { node: form };
  },
};
