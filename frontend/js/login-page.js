// "login.html[?next=/due.html]": signs a staff member in and goes back where they came from.

import { api } from "./api.js";
import { currentUser } from "./session.js";
import { h, param } from "./ui.js";

const form = document.getElementById("login-form");
const errorBox = document.getElementById("login-error");
const notice = document.getElementById("notice");
const button = document.getElementById("sign-in");

/** Where to go after signing in: `next` if it is a page of this site, else the page for the role. */
export function destination(next, role) {
  if (next) {
    try {
      const target = new URL(next, window.location.href);
      // Only our own pages: "?next=https://evil.example" or "//evil.example" must not become a redirect.
      if (target.origin === window.location.origin && !target.pathname.endsWith("/login.html")) {
        return `${target.pathname}${target.search}${target.hash}`;
      }
    } catch {
      /* not a URL: fall through to the default */
    }
  }
  // Everyone but the administrator starts on their home page: a liaison's shows what is due and late first.
  return role === "admin" ? "admin.html" : "./";
}

function showProblem(text) {
  errorBox.replaceChildren(h("p", { class: "error-box" }, text));
}

async function signIn(event) {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    showProblem(!username ? "Enter your username." : "Enter your password.");
    (!username ? form.username : form.password).focus();
    return;
  }
  button.disabled = true;
  button.textContent = "Signing in…";
  errorBox.replaceChildren();
  try {
    const started = await api.login(username, password);
    window.location.assign(destination(param("next"), started.user.role));
  } catch (error) {
    showProblem(error.detail || error.message);
    form.password.value = "";
    form.password.focus();
    button.disabled = false;
    button.textContent = "Sign in";
  }
}

async function main() {
  form.addEventListener("submit", signIn);
  if (param("signed_out")) notice.replaceChildren(h("p", { class: "notice" }, "You have signed out."));
  else if (param("next")) notice.replaceChildren(h("p", { class: "notice" }, "Sign in to continue."));
  form.username.focus();
  const user = await currentUser().catch(() => null);
  if (user) {
    notice.replaceChildren(h("p", { class: "notice" }, `You are already signed in as ${user.name}. `,
      h("a", { href: destination(param("next"), user.role) }, "Continue")));
  }
}

main();
