import { all } from "../api";
import { useLoad } from "../hooks";
import { t, when } from "../i18n";

/** A read-only table of one API list: the columns named, dates shown as dates. */
export function Listing({ path, columns, title }: { path: string; columns: string[]; title?: string }) {
  const [items, , error] = useLoad(() => all<Record<string, unknown>>(path), [path]);
  const cell = (value: unknown) => {
    if (value === null || value === undefined) return "—";
    if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
    if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) return when(value);
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  };
  return (
    <>
      {title && <h2>{title}</h2>}
      {error && <p class="error">{error}</p>}
      {!items && !error && <p class="hint">{t("common.loading")}</p>}
      {items && (
        <table class="grid" data-table={path}>
          <thead><tr>{columns.map((c) => <th>{c}</th>)}</tr></thead>
          <tbody>{items.map((item) => <tr>{columns.map((c) => <td>{cell(item[c])}</td>)}</tr>)}</tbody>
        </table>
      )}
    </>
  );
}
