// The header's "Notifications" link with the signed-in person's unread count (staff only; tokens get none).

import { getJSON } from "./api.js";
import { currentUser } from "./session.js";
import { h } from "./ui.js";

function render(link, unread) {
  // The DOM's replaceChildren writes a null as the text "null": only the parts there are.
  const parts = unread
    ? [h("span", { class: "unread-count", "aria-hidden": "true" }, String(unread)),
      h("span", { class: "visually-hidden" }, ` (${unread} unread)`)]
    : [];
  link.replaceChildren("Notifications", ...parts);
  link.dataset.unread = String(unread);
}

/** Shows the new unread count in the header, after a page has marked some read. */
export function setUnreadCount(unread) {
  const link = document.getElementById("notifications-link");
  if (link) render(link, unread);
}

export async function initNotificationsLink() {
  let user = null;
  try {
    user = await currentUser();
  } catch {
    return;
  }
  if (!user || user.kind !== "user") return;
  let unread;
  try {
    ({ unread } = await getJSON("/ingest/notifications", { limit: 1 }));
  } catch {
    return; // the header must not break the page it sits on
  }
  const slot = document.getElementById("account");
  if (!slot || document.getElementById("notifications-link")) return;
  const link = h("a", { href: "notifications.html", id: "notifications-link", class: "notifications-link" });
  render(link, unread);
  if (window.location.pathname.endsWith("/notifications.html")) link.setAttribute("aria-current", "page");
  const signOut = slot.querySelector("#sign-out");
  if (signOut) signOut.before(link);
  else slot.append(link);
}
