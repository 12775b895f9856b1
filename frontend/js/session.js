// Who is signed in, shared by every page: the header's account widget, the redirect to the sign-in
// page for staff-only pages, and what a role may do (mirrors services/common/auth.py; the server
// still decides, this only spares people buttons that would be refused).

import { api, CSRF_COOKIE, readCookie } from "./api.js";
import { h } from "./ui.js";

export const ROLE_LABELS = { admin: "Administrator", analyst: "Analyst", head: "Department head",
  liaison: "Department liaison", viewer: "Viewer" };

let cached = null;

/** The signed-in staff member ({kind, id, name, role, department, citywide}) or null. Asked once per page. */
export function currentUser() {
  if (!cached) {
    // No CSRF cookie, no session: spare the server (and the console) a request that can only be a 401.
    cached = readCookie(CSRF_COOKIE) ? api.me() : Promise.resolve(null);
  }
  return cached;
}

export function canWrite(user, department) {
  if (!user) return false;
  if (user.role === "admin" || user.role === "analyst") return true;
  return (user.role === "liaison" || user.role === "head") && user.department === department;
}

/** The address of the sign-in page that comes back here afterwards. */
export function signInHref() {
  const here = `${window.location.pathname}${window.location.search}`;
  return `login.html?next=${encodeURIComponent(here)}`;
}

/** For staff-only pages: the user, or a trip to the sign-in page (and a promise that never settles). */
export async function requireUser() {
  const user = await currentUser();
  if (user) return user;
  window.location.assign(signInHref());
  return new Promise(() => {});
}

function describe(user) {
  const role = ROLE_LABELS[user.role] || user.role || "Staff";
  return user.department ? `${role}, ${user.department}` : role;
}

async function signOut(button) {
  button.disabled = true;
  try {
    await api.logout();
  } catch {
    // An expired session is as signed out as it gets; the page below shows the signed-out state.
  }
  window.location.assign("login.html?signed_out=1");
}

/** Fills the header's #account slot and shows the links this user may follow. */
export async function initHeader() {
  const slot = document.getElementById("account");
  const page = window.location.pathname.split("/").pop() || "index.html";
  for (const link of document.querySelectorAll(".site-nav a")) {
    const target = link.getAttribute("href") === "./" ? "index.html" : link.getAttribute("href");
    if (target === page) link.setAttribute("aria-current", "page");
  }
  if (!slot) return;
  let user = null;
  try {
    user = await currentUser();
  } catch {
    user = null; // the header must not break the page it sits on
  }
  if (!user) {
    slot.replaceChildren(page === "login.html" ? "" : h("a", { class: "sign-in-link", href: signInHref() }, "Sign in"));
    return;
  }
  for (const link of document.querySelectorAll(".site-nav [data-admin-only]")) link.hidden = user.role !== "admin";
  const button = h("button", { type: "button", class: "link-button", id: "sign-out" }, "Sign out");
  button.addEventListener("click", () => signOut(button));
  slot.replaceChildren(
    h("span", { class: "who" }, "Signed in as ", h("strong", { id: "signed-in-name" }, user.name),
      h("span", { class: "who-role" }, ` (${describe(user)})`)),
    button);
}
