import { get, type Contact } from "../api";
import { useLoad } from "../hooks";
import { t } from "../i18n";
import type { Directory } from "../directory";

interface Payment { id: string; amount_cents: number; status: string; method: string; due_date?: string }

export function ContactPanel({ contact, directory }: { contact: Contact; directory?: Directory }) {
  const [payments] = useLoad(
    () => get<{ items: Payment[] }>(`/v1/contacts/${contact.id}/payments`).then((p) => p.items).catch(() => [] as Payment[]),
    [contact.id]);
  const tagName = (id: string) => directory?.tags.find((x) => x.id === id || x.name === id)?.name ?? id;
  const money = (cents: number) => (cents / 100).toLocaleString("pt-BR", { style: "currency", currency: "BRL" });
  return (
    <aside class="contact-panel" aria-label={t("contact.title")}>
      <h3>{contact.name || contact.phone}</h3>
      <dl>
        <dt>{t("contact.phone")}</dt><dd>{contact.phone ?? "—"}</dd>
        <dt>{t("contact.email")}</dt><dd>{contact.email ?? "—"}</dd>
        <dt>{t("contact.tags")}</dt><dd>{contact.tags.length ? contact.tags.map((x) => <span class="tag">{tagName(x)}</span>) : "—"}</dd>
      </dl>
      {Object.keys(contact.custom ?? {}).length > 0 && (
        <>
          <h4>{t("contact.custom")}</h4>
          <dl>{Object.entries(contact.custom).map(([k, v]) => <><dt>{k}</dt><dd>{String(v)}</dd></>)}</dl>
        </>
      )}
      {payments && payments.length > 0 && (
        <>
          <h4>{t("contact.payments")}</h4>
          <ul class="plain">{payments.map((p) => <li>{money(p.amount_cents)} · {p.method} · {p.status}</li>)}</ul>
        </>
      )}
    </aside>
  );
}
