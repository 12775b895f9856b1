// Modal dialogs on the native <dialog> element: it traps focus, closes on Escape and gives focus
// back to where it was, so keyboard and screen-reader users get the behaviour they expect.

import { h } from "./ui.js";

let counter = 0;

/**
 * Opens a modal. `build(close)` returns its body; returns {dialog, close, closed} where `closed`
 * settles with the value passed to close() (undefined on Escape).
 */
export function openDialog({ title, build, className = "", describedBy = null }) {
  counter += 1;
  const titleId = `dialog-title-${counter}`;
  const opener = document.activeElement;
  const dialog = h("dialog", { class: `modal ${className}`.trim(), "aria-labelledby": titleId,
    "aria-describedby": describedBy });
  let result;
  let settle;
  const closed = new Promise((resolve) => { settle = resolve; });
  const close = (value) => {
    result = value;
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
    settle(result);
  });
  dialog.append(h("h2", { id: titleId, class: "modal-title" }, title), build(close));
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close, closed };
}

/** "Are you sure?" with the safe choice focused first. Resolves true only when confirmed. */
export async function confirmDialog({ title, message, confirmLabel = "Confirm", cancelLabel = "Cancel", danger = false }) {
  const { closed } = openDialog({
    title,
    className: "confirm",
    build: (close) => {
      const cancel = h("button", { type: "button", class: "secondary", autofocus: true }, cancelLabel);
      const ok = h("button", { type: "button", class: danger ? "danger" : "primary" }, confirmLabel);
      cancel.addEventListener("click", () => close(false));
      ok.addEventListener("click", () => close(true));
      return h("div", {}, h("div", { class: "modal-body" }, message), h("div", { class: "modal-actions" }, cancel, ok));
    },
  });
  return (await closed) === true;
}
