// "notifications.html": the signed-in person's reminders, overdue notices and weekly digests, newest first,
// to read, mark read (one or all) and follow to the page each is about. "?unread=1" shows the unread ones only.

import { getJSON, sendJSON } from "./api.js";
import { formatDate } from "./format.js";
import { setUnreadCount } from "./notifications-badge.js";
import { requireUser } from "./session.js";
import { h, param, showContent, showError, showLoading } from "./ui.js";

const PAGE = 50;
const KINDS = { reminder: "Reminder", overdue: "Overdue", digest: "Weekly digest" };
const EMAIL = { sent: "Also e-mailed", pending: "E-mail waiting to be sent", failed: "E-mail could not be delivered" };

const state = { items: [], total: 0, unread: 0, unreadOnly: false };

function summaryText() {
  const { total, unread, unreadOnly } = state;
  if (unreadOnly) return unread === 1 ? "1 unread notification." : `${unread} unread notifications.`;
  if (!total) return "";
  return `${total} ${total === 1 ? "notification" : "notifications"}, ${unread} unread.`;
}

function refreshCounts() {
  document.getElementById("notifications-summary").textContent = summaryText();
  document.getElementById("read-all").disabled = state.unread === 0;
  setUnreadCount(state.unread);
}

async function markRead(item) {
  if (item.read) return;
  const updated = await sendJSON("POST", `/ingest/notifications/${encodeURIComponent(item.id)}/read`);
  Object.assign(item, updated);
  state.unread = Math.max(0, state.unread - 1);
}

function entry(item) {
  const headingId = `notification-${item.id}-title`;
  const link = h("a", { href: item.link }, item.subject);
  const mark = item.read ? null : h("button", { type: "button", class: "secondary small mark-read" },
    "Mark as read", h("span", { class: "visually-hidden" }, `: ${item.subject}`));
  const node = h("li", { class: `notification${item.read ? "" : " unread"}`, dataset: { id: String(item.id), kind: item.kind } },
  h("div", { class: "notification-meta" },
    h("span", { class: `badge kind-${item.kind}` }, KINDS[item.kind] || item.kind),
    h("span", {}, item.department),
    h("time", { datetime: item.created_at }, formatDate(item.created_at)),
    item.read ? null : h("strong", { class: "unread-label" }, "Unread"),
    EMAIL[item.email] ? h("span", {}, EMAIL[item.email]) : null),
  h("h2", { id: headingId }, link),
  h("details", {}, h("summary", {}, "Show the message"), h("pre", { class: "notification-body" }, item.body)),
  mark ? h("div", { class: "actions" }, mark) : null);

  const update = () => {
    node.replaceWith(entry(item));
    refreshCounts();
  };
  mark?.addEventListener("click", async () => {
    mark.disabled = true;
    try {
      await markRead(item);
      update();
      document.querySelector(`.notification[data-id="${item.id}"] h2 a`)?.focus();
    } catch (error) {
      mark.disabled = false;
      showError(document.getElementById("content"), error, { back: false });
    }
  });
  // Following the link reads it: marked first, then the page it is about.
  link.addEventListener("click", async (event) => {
    if (item.read || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    try {
      await markRead(item);
    } finally {
      window.location.assign(item.link);
    }
  });
  return node;
}

function render() {
  const content = document.getElementById("content");
  if (!state.items.length) {
    showContent(content, h("p", { class: "empty", id: "no-notifications" }, state.unreadOnly
      ? "Nothing unread. "
      : "No notifications yet. Reminders before a due date, overdue notices and a weekly digest of your department will appear here.",
    state.unreadOnly ? h("a", { href: "notifications.html" }, "Show all notifications") : null));
    refreshCounts();
    return;
  }
  const more = state.items.length < state.total
    ? h("button", { type: "button", class: "secondary", id: "show-more" }, "Show older notifications")
    : null;
  more?.addEventListener("click", async () => {
    more.disabled = true;
    await load(state.items.length);
  });
  showContent(content, h("ul", { class: "notification-list", id: "notification-list" }, state.items.map(entry)), more);
  refreshCounts();
}

async function load(offset = 0) {
  const content = document.getElementById("content");
  if (!offset) showLoading(content, "Loading your notifications…");
  try {
    const page = await getJSON("/ingest/notifications",
      { limit: PAGE, offset, unread: state.unreadOnly ? "true" : undefined });
    state.items = offset ? [...state.items, ...page.items] : page.items;
    state.total = page.total;
    state.unread = page.unread;
  } catch (error) {
    showError(content, error, { back: false });
    return;
  }
  render();
}

async function readAll(button) {
  button.disabled = true;
  try {
    const result = await sendJSON("POST", "/ingest/notifications/read-all");
    state.unread = result.unread;
    if (state.unreadOnly) {
      state.items = [];
      state.total = 0;
    } else {
      for (const item of state.items) item.read = true;
    }
    render();
    document.getElementById("notifications-summary").textContent =
      `Marked ${result.marked} ${result.marked === 1 ? "notification" : "notifications"} as read.`;
  } catch (error) {
    button.disabled = false;
    showError(document.getElementById("content"), error, { back: false });
  }
}

async function main() {
  await requireUser();
  state.unreadOnly = param("unread") === "1";
  const filter = document.getElementById("filter-link");
  filter.href = state.unreadOnly ? "notifications.html" : "notifications.html?unread=1";
  filter.textContent = state.unreadOnly ? "Show all" : "Show unread only";
  const button = document.getElementById("read-all");
  button.addEventListener("click", () => readAll(button));
  document.getElementById("notifications-actions").hidden = false;
  await load();
}

main();
