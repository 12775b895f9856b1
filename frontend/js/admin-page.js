// "admin.html": staff accounts, department API tokens and the recent audit trail. Administrators
// only; everyone else is told so and no administrative data is requested.

import { api } from "./api.js";
import { confirmDialog, openDialog } from "./dialog.js";
import { formatDate } from "./format.js";
import { requireUser, ROLE_LABELS } from "./session.js";
import { h, showContent, showError, showLoading } from "./ui.js";

const content = document.getElementById("content");
const when = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const ROLES = ["liaison", "head", "analyst", "viewer", "admin"];

const state = { me: null, departments: [], users: [], tokens: [], tokenFilter: "", auditFilter: "" };

const stamp = (iso) => (iso ? when.format(new Date(iso)) : "—");

function departmentOptions(selected, { none = null } = {}) {
  return [
    none ? h("option", { value: "", selected: !selected }, none) : null,
    ...state.departments.map((d) => h("option", { value: d.code, selected: d.code === selected }, `${d.code} — ${d.name}`)),
  ];
}

function roleOptions(selected) {
  return ROLES.map((r) => h("option", { value: r, selected: r === selected }, ROLE_LABELS[r]));
}

function field(id, label, control, help = null) {
  if (help) control.setAttribute("aria-describedby", `${id}-help`);
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
    help ? h("p", { class: "muted help", id: `${id}-help` }, help) : null);
}

function problemBox(error) {
  return h("div", { class: "error-box", role: "alert" },
    h("p", { class: "error-detail" }, error.detail || error.message),
    error.errors?.length
      ? h("ul", { class: "error-list" }, error.errors.map((e) => h("li", {}, e.field ? `${e.field}: ${e.reason}` : e.reason)))
      : null);
}

function flash(slot, text) {
  slot.replaceChildren(h("p", { class: "success-box" }, text));
}

// ---- users ------------------------------------------------------------------------------------

function userRow(user) {
  // Each button's name is its visible text plus, for screen readers, whose account it acts on.
  const whose = (text) => h("span", { class: "visually-hidden" }, text);
  const edit = h("button", { type: "button", class: "secondary small" }, "Edit…", whose(` ${user.username}`));
  const reset = h("button", { type: "button", class: "secondary small" }, "Reset password…", whose(` of ${user.username}`));
  const toggle = h("button", { type: "button", class: user.active ? "danger-outline small" : "secondary small" },
    user.active ? "Deactivate…" : "Reactivate", whose(` ${user.username}`));
  edit.addEventListener("click", () => editUser(user));
  reset.addEventListener("click", () => resetPassword(user));
  toggle.addEventListener("click", () => setActive(user, !user.active));
  const self = String(user.id) === state.me.id;
  return h("tr", { dataset: { username: user.username } },
    h("th", { scope: "row" }, user.username),
    h("td", {}, user.display_name, user.email ? h("span", { class: "muted user-email" }, h("br"), user.email) : null),
    h("td", { class: "role" }, ROLE_LABELS[user.role] || user.role),
    h("td", { class: "department" }, user.department || (["liaison", "head"].includes(user.role) ? "—" : "Citywide")),
    h("td", { class: user.active ? "state-active" : "state-inactive" }, user.active ? "Active" : "Deactivated"),
    h("td", {}, stamp(user.last_login_at)),
    h("td", {}, h("div", { class: "actions" }, edit, reset, self ? null : toggle)));
}

function usersTable() {
  return h("div", { class: "table-wrap" }, h("table", { id: "users-table" },
    h("caption", {}, `${state.users.length} staff accounts`),
    h("thead", {}, h("tr", {}, ["Username", "Name", "Role", "Department", "Status", "Last sign-in (UTC)", "Actions"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, state.users.map(userRow))));
}

async function reloadUsers() {
  state.users = (await api.users()).items;
  document.getElementById("users-table").closest(".table-wrap").replaceWith(usersTable());
}

function createUserForm() {
  const slot = h("div", { id: "user-form-result" });
  const form = h("form", { class: "inline-fields", id: "create-user", novalidate: true },
    field("new-username", "Username", h("input", { id: "new-username", name: "username", type: "text", required: true,
      autocomplete: "off", autocapitalize: "none", spellcheck: "false", pattern: "[a-z0-9][a-z0-9._-]{1,63}" }),
    "Lower case letters, digits, . _ -"),
    field("new-display-name", "Full name", h("input", { id: "new-display-name", name: "display_name", type: "text", required: true })),
    field("new-email", "E-mail", h("input", { id: "new-email", name: "email", type: "email", autocomplete: "off",
      spellcheck: "false" }), "For reminders and digests (optional)"),
    field("new-password", "Initial password", h("input", { id: "new-password", name: "password", type: "password",
      autocomplete: "new-password", required: true, minlength: "10" }), "At least 10 characters"),
    field("new-role", "Role", h("select", { id: "new-role", name: "role" }, roleOptions("liaison"))),
    field("new-department", "Department", h("select", { id: "new-department", name: "department" },
      departmentOptions("", { none: "None (citywide)" })), "A liaison needs one; for a viewer it limits what they see"),
    h("div", { class: "field" }, h("button", { type: "submit", class: "primary" }, "Add user")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      username: form.username.value.trim().toLowerCase(),
      display_name: form.display_name.value.trim(),
      password: form.password.value,
      role: form.role.value,
      department: form.department.value || null,
      email: form.email.value.trim() || null,
    };
    try {
      const user = await api.createUser(body);
      form.reset();
      flash(slot, `Added ${user.username} (${ROLE_LABELS[user.role]}). Give them their password in person or by phone.`);
      await reloadUsers();
    } catch (error) {
      slot.replaceChildren(problemBox(error));
    }
  });
  return h("details", { class: "add-form" }, h("summary", {}, "Add a user"), form, slot);
}

function editUser(user) {
  openDialog({
    title: `Edit ${user.username}`,
    build: (close) => {
      const errors = h("div", { class: "form-errors" });
      const form = h("form", { class: "stack-form", novalidate: true },
        field("edit-display-name", "Full name", h("input", { id: "edit-display-name", name: "display_name", type: "text",
          value: user.display_name, required: true })),
        field("edit-email", "E-mail", h("input", { id: "edit-email", name: "email", type: "email", spellcheck: "false",
          value: user.email || "" }), "For reminders and digests; leave empty for none"),
        field("edit-role", "Role", h("select", { id: "edit-role", name: "role" }, roleOptions(user.role))),
        field("edit-department", "Department", h("select", { id: "edit-department", name: "department" },
          departmentOptions(user.department, { none: "None (citywide)" }))),
        errors,
        h("div", { class: "modal-actions" },
          h("button", { type: "button", class: "secondary", dataset: { close: "" } }, "Cancel"),
          h("button", { type: "submit", class: "primary" }, "Save changes")));
      form.querySelector("[data-close]").addEventListener("click", () => close());
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const body = { display_name: form.display_name.value.trim(), role: form.role.value,
          department: form.department.value || null, email: form.email.value.trim() || null };
        try {
          await api.updateUser(user.id, body);
          close(true);
          flash(document.getElementById("users-result"), `Saved the changes to ${user.username}.`);
          await reloadUsers();
        } catch (error) {
          errors.replaceChildren(problemBox(error));
        }
      });
      return form;
    },
  });
}

function resetPassword(user) {
  openDialog({
    title: `Reset the password of ${user.username}`,
    build: (close) => {
      const errors = h("div", { class: "form-errors" });
      const form = h("form", { class: "stack-form", novalidate: true },
        field("reset-password", "New password", h("input", { id: "reset-password", name: "password", type: "password",
          autocomplete: "new-password", required: true, minlength: "10" }), "At least 10 characters. Tell the person by phone or in person."),
        errors,
        h("div", { class: "modal-actions" },
          h("button", { type: "button", class: "secondary", dataset: { close: "" } }, "Cancel"),
          h("button", { type: "submit", class: "primary" }, "Set password")));
      form.querySelector("[data-close]").addEventListener("click", () => close());
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await api.updateUser(user.id, { password: form.password.value });
          close(true);
          flash(document.getElementById("users-result"), `The password of ${user.username} has been reset.`);
        } catch (error) {
          errors.replaceChildren(problemBox(error));
        }
      });
      return form;
    },
  });
}

async function setActive(user, active) {
  const slot = document.getElementById("users-result");
  if (!active) {
    const ok = await confirmDialog({
      title: `Deactivate ${user.username}?`,
      message: h("p", {}, `${user.display_name} will no longer be able to sign in. You can reactivate the account later.`),
      confirmLabel: "Deactivate",
      danger: true,
    });
    if (!ok) return;
  }
  try {
    await api.updateUser(user.id, { active });
    flash(slot, `${user.username} is ${active ? "active again" : "deactivated"}.`);
    await reloadUsers();
  } catch (error) {
    slot.replaceChildren(problemBox(error));
  }
}

function usersSection() {
  return h("section", { class: "admin-section", "aria-labelledby": "users-heading" },
    h("h2", { id: "users-heading" }, "Staff accounts"),
    h("div", { id: "users-result", role: "status" }),
    usersTable(),
    createUserForm());
}

// ---- tokens -----------------------------------------------------------------------------------

function tokenState(token) {
  if (token.revoked_at) return ["revoked", `Revoked ${stamp(token.revoked_at)}`];
  if (!token.active) return ["expired", "Expired"];
  return ["active", "Active"];
}

function tokenRow(token) {
  const [key, label] = tokenState(token);
  const revoke = token.revoked_at ? null
    : h("button", { type: "button", class: "danger-outline small" }, "Revoke…",
      h("span", { class: "visually-hidden" }, ` token ${token.name}`));
  revoke?.addEventListener("click", () => revokeToken(token));
  return h("tr", { dataset: { tokenId: String(token.id) } },
    h("th", { scope: "row" }, token.name),
    h("td", {}, token.department),
    h("td", {}, `${stamp(token.created_at)} by ${token.created_by}`),
    h("td", {}, token.expires_at ? formatDate(token.expires_at) : "Never"),
    h("td", {}, token.last_used_at ? stamp(token.last_used_at) : "Never"),
    h("td", { class: `state-${key}` }, label),
    h("td", {}, revoke));
}

function tokensTable() {
  const shown = state.tokens;
  return h("div", { class: "table-wrap", id: "tokens-wrap" }, shown.length
    ? h("table", { id: "tokens-table" },
      h("caption", {}, `${shown.length} ${shown.length === 1 ? "token" : "tokens"}${state.tokenFilter ? ` for ${state.tokenFilter}` : ""}`),
      h("thead", {}, h("tr", {}, ["Name", "Department", "Created", "Expires", "Last used (UTC)", "State", "Action"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, shown.map(tokenRow)))
    : h("p", { class: "empty", id: "tokens-empty" }, state.tokenFilter ? `No tokens for ${state.tokenFilter} yet.` : "No tokens yet."));
}

async function reloadTokens() {
  state.tokens = (await api.tokens(state.tokenFilter || undefined)).items;
  document.getElementById("tokens-wrap").replaceWith(tokensTable());
}

function showTokenOnce(created) {
  const code = h("code", { id: "new-token" }, created.token);
  const copied = h("span", { role: "status", class: "muted" });
  const copy = h("button", { type: "button", class: "primary small", id: "copy-token" }, "Copy token");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(created.token);
      copied.textContent = "Copied.";
    } catch {
      // No clipboard access (an insecure origin, a denied permission): select it for Ctrl+C instead.
      window.getSelection().selectAllChildren(code);
      copied.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });
  const done = h("button", { type: "button", class: "secondary small" }, "I have stored it");
  const box = h("div", { class: "token-once", id: "token-once", role: "alert" },
    h("p", {}, h("strong", {}, `The token for “${created.name}” (${created.department}). `),
      "Copy it now and store it in the system that will use it: it is shown this once and cannot be read again."),
    code,
    h("div", { class: "form-actions" }, copy, done, copied));
  done.addEventListener("click", () => box.remove());
  return box;
}

function createTokenForm() {
  const slot = h("div", { id: "token-form-result" });
  const form = h("form", { class: "inline-fields", id: "create-token", novalidate: true },
    field("token-department", "Department", h("select", { id: "token-department", name: "department", required: true },
      h("option", { value: "" }, "Choose…"), departmentOptions(state.tokenFilter))),
    field("token-name", "Used by (system name)", h("input", { id: "token-name", name: "name", type: "text", required: true,
      maxlength: "200", placeholder: "e.g. Work-order system" })),
    field("token-days", "Expires after (days)", h("input", { id: "token-days", name: "expires_in_days", type: "number",
      min: "1", max: "3650", step: "1", inputmode: "numeric" }), "Blank: the server's default"),
    h("div", { class: "field" }, h("button", { type: "submit", class: "primary" }, "Create token")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    slot.replaceChildren();
    const body = { department: form.department.value, name: form.name.value.trim() };
    if (form.expires_in_days.value) body.expires_in_days = Number(form.expires_in_days.value);
    if (!body.department || !body.name) {
      slot.replaceChildren(problemBox({ detail: "Choose the department and name the system that will use the token." }));
      return;
    }
    try {
      const created = await api.createToken(body);
      form.name.value = "";
      form.expires_in_days.value = "";
      slot.replaceChildren(showTokenOnce(created));
      await reloadTokens();
      document.getElementById("copy-token")?.focus();
    } catch (error) {
      slot.replaceChildren(problemBox(error));
    }
  });
  return h("div", {}, h("h3", {}, "Create a token"), form, slot);
}

async function revokeToken(token) {
  const ok = await confirmDialog({
    title: `Revoke the token “${token.name}”?`,
    message: h("p", {}, `The ${token.department} system using it will be refused from now on. This cannot be undone; `
      + "create a new token if it is needed again."),
    confirmLabel: "Revoke token",
    danger: true,
  });
  if (!ok) return;
  const slot = document.getElementById("tokens-result");
  try {
    await api.revokeToken(token.id);
    flash(slot, `Revoked the token “${token.name}”.`);
    await reloadTokens();
  } catch (error) {
    slot.replaceChildren(problemBox(error));
  }
}

function tokensSection() {
  const filter = h("select", { id: "token-filter" }, departmentOptions(state.tokenFilter, { none: "All departments" }));
  filter.addEventListener("change", async () => {
    state.tokenFilter = filter.value;
    try {
      await reloadTokens();
    } catch (error) {
      document.getElementById("tokens-result").replaceChildren(problemBox(error));
    }
  });
  return h("section", { class: "admin-section", "aria-labelledby": "tokens-heading" },
    h("h2", { id: "tokens-heading" }, "Department API tokens"),
    h("div", { class: "inline-fields" }, field("token-filter", "Show tokens of", filter)),
    h("div", { id: "tokens-result", role: "status" }),
    tokensTable(),
    createTokenForm());
}

// ---- audit ------------------------------------------------------------------------------------

function auditTable(events) {
  return h("div", { class: "table-wrap", id: "audit-wrap" }, events.length
    ? h("table", { id: "audit-table" },
      h("caption", {}, "Most recent first"),
      h("thead", {}, h("tr", {}, ["When (UTC)", "Who", "Action", "Department", "Subject", "Outcome", "Detail"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, events.map((e) => h("tr", {},
        h("td", {}, stamp(e.at)),
        h("td", {}, e.actor_name && e.actor_name !== e.actor ? `${e.actor_name} (${e.actor})` : e.actor),
        h("td", {}, e.action),
        h("td", {}, e.department || "—"),
        h("td", {}, e.subject || "—"),
        h("td", { class: e.outcome === "ok" ? "" : "state-revoked" }, e.outcome),
        h("td", { class: "audit-detail" }, e.detail ? JSON.stringify(e.detail) : "")))))
    : h("p", { class: "empty" }, "No events recorded."));
}

async function reloadAudit() {
  const { items } = await api.audit(state.auditFilter || undefined);
  document.getElementById("audit-wrap").replaceWith(auditTable(items));
}

function auditSection(events) {
  const filter = h("select", { id: "audit-filter" }, departmentOptions(state.auditFilter, { none: "All departments" }));
  const refresh = h("button", { type: "button", class: "secondary small" }, "Refresh");
  const problems = h("div", { role: "status" });
  const reload = async () => {
    state.auditFilter = filter.value;
    try {
      await reloadAudit();
      problems.replaceChildren();
    } catch (error) {
      problems.replaceChildren(problemBox(error));
    }
  };
  filter.addEventListener("change", reload);
  refresh.addEventListener("click", reload);
  return h("section", { class: "admin-section", "aria-labelledby": "audit-heading" },
    h("h2", { id: "audit-heading" }, "Recent activity"),
    h("p", {}, h("a", { href: "audit.html", id: "full-audit-link" }, "The full audit log"),
      ": sign-ins, submissions, accounts and tokens, and every change in metrics, with filters."),
    h("div", { class: "inline-fields" }, field("audit-filter", "Department", filter), h("div", { class: "field" }, refresh)),
    problems,
    auditTable(events));
}

// ---- page -------------------------------------------------------------------------------------

async function main() {
  state.me = await requireUser();
  if (state.me.role !== "admin") {
    showContent(content, h("div", { class: "notice", id: "admins-only", role: "alert" },
      h("h2", {}, "Only administrators can open this page"),
      h("p", {}, "Staff accounts, API tokens and the audit trail are managed by the performance office's "
        + "administrators. Ask one of them if you need an account changed or a token for a system."),
      h("p", {}, h("a", { href: "departments.html" }, "Back to all departments"))));
    return;
  }
  showLoading(content, "Loading accounts and tokens…");
  let audit;
  try {
    const [departments, users, tokens, events] = await Promise.all([api.departments(), api.users(), api.tokens(), api.audit()]);
    state.departments = departments.items;
    state.users = users.items;
    state.tokens = tokens.items;
    audit = events.items;
  } catch (error) {
    showError(content, error);
    return;
  }
  showContent(content, usersSection(), tokensSection(), auditSection(audit));
}

main();
