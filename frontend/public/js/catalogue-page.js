// "catalogue.html": every public dataset with what it holds, how many rows, when it last changed, and the ways to
// get it: the Socrata (SODA) API, a full download, its metadata and its Frictionless descriptor; then the
// catalogue-wide documents (DCAT-US data.json, the Frictionless data package, the CKAN action API).

import { formatDate } from "../../js/format.js";
import { h, showContent } from "../../js/ui.js";
import { number, publicApi, run } from "./common.js";

const main = document.getElementById("main");
const enc = encodeURIComponent;

const TYPE_WORDS = { text: "Text", number: "Number", boolean: "True or false", floating_timestamp: "Date and time" };

function links(dataset) {
  const id = enc(dataset.id);
  return [
    ["API (JSON)", `/resource/${id}.json`, "Socrata SODA query API, JSON"],
    ["API (CSV)", `/resource/${id}.csv`, "Socrata SODA query API, CSV"],
    ["Full download (CSV)", `/api/views/${id}/rows.csv?accessType=DOWNLOAD`, "Every row, as CSV"],
    ["Metadata", `/api/views/${id}.json`, "The dataset's metadata, JSON"],
    ["Frictionless", `/api/views/${id}/datapackage.json`, "Frictionless data package descriptor"],
  ];
}

function datasetCard(dataset) {
  const headingId = `dataset-${dataset.id}`;
  return h("li", {}, h("article", { class: "panel dataset", dataset: { id: dataset.id, key: dataset.key }, "aria-labelledby": headingId },
    h("h2", { id: headingId }, dataset.name),
    h("ul", { class: "dataset-meta" },
      dataset.category ? h("li", {}, dataset.category) : null,
      h("li", { class: "row-count" }, `${number(dataset.row_count)} ${dataset.row_count === 1 ? "row" : "rows"}`),
      h("li", { class: "updated" }, `Updated ${formatDate(dataset.updated_at)}`),
      h("li", {}, "ID ", h("code", {}, dataset.id))),
    dataset.description ? h("p", {}, dataset.description) : null,
    h("ul", { class: "link-list", "aria-label": `Get ${dataset.name}` },
      links(dataset).map(([label, href, title]) => h("li", {}, h("a", { href, title, dataset: { link: label } }, label)))),
    dataset.columns?.length ? h("details", { class: "columns-table" },
      h("summary", {}, `Columns (${dataset.columns.length})`),
      h("table", { class: "table stack" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Column"), h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Description"))),
        h("tbody", {}, dataset.columns.map((c) => h("tr", {},
          h("th", { scope: "row" }, h("code", {}, c.field_name)),
          h("td", { "data-label": "Type" }, TYPE_WORDS[c.datatype] || c.datatype),
          h("td", { "data-label": "Description" }, c.description || c.name)))))) : null,
    dataset.license || dataset.publisher ? h("p", { class: "muted" },
      [dataset.publisher ? `Published by ${dataset.publisher}` : "", dataset.license ? `Licence: ${dataset.license}` : ""].filter(Boolean).join(". "), ".") : null));
}

async function load() {
  const { items } = await publicApi.openDatasets();
  const datasets = [...items].sort((a, b) => (a.category || "").localeCompare(b.category || "") || a.name.localeCompare(b.name));
  showContent(main,
    h("h1", {}, "Open data catalogue"),
    h("p", { class: "lead" }, "Every dataset behind this site, free to use. Each can be queried through the Socrata-compatible "
      + "API (SODA: filter with column=value or $where, and page with $limit and $offset) or downloaded whole."),
    datasets.length ? h("ul", { class: "dataset-list", id: "datasets" }, datasets.map(datasetCard))
      : h("p", { class: "empty" }, "No datasets are published yet."),
    h("section", { class: "panel", id: "site-wide", "aria-labelledby": "site-wide-heading" },
      h("h2", { id: "site-wide-heading" }, "The whole catalogue"),
      h("p", {}, "For catalogue harvesters and data tools:"),
      h("ul", { class: "link-list" },
        [["DCAT-US (data.json)", "/data.json"], ["Frictionless data package", "/datapackage.json"],
          ["CKAN API: package list", "/api/3/action/package_list"], ["Socrata catalogue API", "/api/catalog/v1"]]
          .map(([label, href]) => h("li", {}, h("a", { href, dataset: { link: label } }, label))))));
  document.title = "Open data catalogue — CityStat";
}

run(main, load);
