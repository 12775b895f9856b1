// What the staff pages share: which department a page works on.

import { api } from "./api.js";
import { h } from "./ui.js";

/**
 * The department this page is about: a liaison's (or a scoped viewer's) own, or, for citywide staff,
 * the one chosen in #department-form's select (?department=CODE). Fills and shows that form for
 * citywide staff. Returns {code, name}, or null while a citywide user has not chosen yet.
 */
export async function chooseDepartment(user, requested) {
  const { items } = await api.departments();
  const byCode = new Map(items.map((d) => [d.code, d]));
  if (!user.citywide) {
    const own = byCode.get(user.department);
    return own ? { code: own.code, name: own.name } : { code: user.department, name: user.department };
  }
  const form = document.getElementById("department-form");
  const select = document.getElementById("department");
  if (form && select) {
    select.replaceChildren(h("option", { value: "" }, "Choose a department…"),
      ...items.map((d) => h("option", { value: d.code, selected: d.code === requested }, `${d.name} (${d.code})`)));
    form.hidden = false;
  }
  const chosen = byCode.get(requested);
  return chosen ? { code: chosen.code, name: chosen.name } : null;
}
